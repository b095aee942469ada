/*
 * invert.c - a pirec plugin written in plain C, proving the ABI is language-neutral.
 * Reads `image`, writes `image` with every sample v replaced by v + amount * (1 - 2v)
 * (amount 1, the default, gives 1 - v).
 *
 * Built by the tests with cc:  cc -shared -fPIC -I Sources/CPirecPlugin/include invert.c
 * The TEST_* macros build deliberately broken variants for the host's refusal tests, and
 * for the daemon's tests one that segfaults on a marked input and one that is slow.
 */
#include "pirec_plugin.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR PIREC_ABI_MAJOR
#endif
#ifndef TEST_ABI_MINOR
#define TEST_ABI_MINOR PIREC_ABI_MINOR
#endif

typedef struct invert_state {
    const pirec_host *host;
    float amount;
} invert_state;

/* Refuses `key`: through the host when its table has refuse_parameter (ABI 1.2), else by
 * naming the key at the start of the message. */
static void refuse(const pirec_host *host, const char *key, const char *problem, char *err, size_t errlen) {
    if (host->struct_size >= offsetof(pirec_host, refuse_parameter) + sizeof(host->refuse_parameter)
        && host->refuse_parameter) {
        host->refuse_parameter(host->context, key);
        snprintf(err, errlen, "%s", problem);
    } else {
        snprintf(err, errlen, "%s: %s", key, problem);
    }
}

/* Finds "amount": <number> in the host's JSON; the host has already checked its type and range. */
static int parse_amount(const pirec_host *host, const char *json, float *amount, char *err, size_t errlen) {
    *amount = 1.0f;
    const char *key = strstr(json ? json : "", "\"amount\"");
    if (!key) return 0;
    const char *colon = strchr(key, ':');
    char *end = NULL;
    double value = colon ? strtod(colon + 1, &end) : 0;
    if (!colon || end == colon + 1 || value < 0 || value > 1) {
        refuse(host, "amount", "expected a number in 0...1", err, errlen);
        return -1;
    }
    *amount = (float)value;
    return 0;
}

static int32_t invert_create(const char *config_json, const pirec_host *host, void **state,
                             char *err, size_t errlen) {
    float amount;
    if (parse_amount(host, config_json, &amount, err, errlen) != 0) return PIREC_ERROR;
    invert_state *s = (invert_state *)calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return PIREC_ERROR;
    }
    s->host = host;
    s->amount = amount;
    *state = s;
    return PIREC_OK;
}

static int32_t invert_process(void *state, pirec_frame *frame, char *err, size_t errlen) {
    invert_state *s = (invert_state *)state;
    const pirec_image *in = s->host->frame_get(frame, "image");
    if (!in) {
        snprintf(err, errlen, "input slot \"image\" is empty");
        return PIREC_ERROR;
    }
#ifdef TEST_CRASH_ON_WIDTH
    /* The poison-file test: a plugin that crashes the whole process on a marked input. */
    if (in->width == TEST_CRASH_ON_WIDTH) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
#endif
#ifdef TEST_HANG_ON_WIDTH
    /* The step-timeout tests: hang on a marked input, until cancelled (TEST_HANG_OBEYS) or
     * for good. */
    if (in->width == TEST_HANG_ON_WIDTH) {
        for (;;) {
            struct timespec t = {0, 10000000L};
            nanosleep(&t, NULL);
#ifdef TEST_HANG_OBEYS
            if (s->host->is_cancelled(frame)) return PIREC_CANCELLED;
#endif
        }
    }
#endif
#ifdef TEST_SLOW_MS
    /* The stop and reload tests: a job that takes a while. */
    { struct timespec t = {TEST_SLOW_MS / 1000, (TEST_SLOW_MS % 1000) * 1000000L}; nanosleep(&t, NULL); }
#endif
    pirec_image *out = s->host->image_new(frame, in->width, in->height, in->channels);
    if (!out) {
        snprintf(err, errlen, "cannot allocate a %ux%u image", in->width, in->height);
        return PIREC_ERROR;
    }
    for (uint32_t y = 0; y < in->height; y++) {
        const float *src = (const float *)((const char *)in->data + (size_t)y * in->stride_bytes);
        float *dst = (float *)((char *)out->data + (size_t)y * out->stride_bytes);
        for (uint32_t i = 0; i < in->width * in->channels; i++)
            dst[i] = src[i] + s->amount * (1.0f - 2.0f * src[i]);
    }
    s->host->log(s->host->context, PIREC_LOG_DEBUG, "inverted one image");
    return s->host->frame_set(frame, "image", out);
}

static void invert_destroy(void *state) { free(state); }

static const char *const invert_slots[] = {"image", NULL};

static const pirec_param invert_params[] = {
    {"amount", PIREC_PARAM_FLOAT, 0, 0.0, 1.0, NULL, "1", "how far to invert: 0 keeps, 1 inverts"},
};

static const pirec_plugin_descriptor invert_descriptor = {
#ifdef TEST_SMALL_STRUCT
    16,
#else
    sizeof(pirec_plugin_descriptor),
#endif
    PIREC_MAKE_VERSION(TEST_ABI_MAJOR, TEST_ABI_MINOR),
    "invert",
    "1.0.0",
    "Inverts the image (a test plugin written in C)",
    invert_slots,
    invert_slots,
    invert_params,
    1,
    0,
    invert_create,
    invert_process,
    invert_destroy,
};

#ifndef TEST_NO_ENTRY
const pirec_plugin_descriptor *pirec_plugin_entry_v1(void) { return &invert_descriptor; }
#else
const pirec_plugin_descriptor *not_the_entry(void) { return &invert_descriptor; }
#endif
