/* Empty: this target only publishes include/pirec_plugin.h to Swift. */
