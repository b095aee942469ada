/* OpenBLAS (not the generic libblas, which lacks openblas_set_num_threads). */
#include <cblas.h>
