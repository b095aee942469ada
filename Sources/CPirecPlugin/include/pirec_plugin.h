/*
 * pirec_plugin.h - the whole contract between the pirec host and a plugin.
 *
 * A plugin is a shared library that exports one symbol per ABI major:
 *
 *     const pirec_plugin_descriptor *pirec_plugin_entry_v1(void);
 *
 * A future major 2 adds `pirec_plugin_entry_v2`, so one library may serve
 * both and old plugins keep loading. The host accepts a plugin whose major
 * equals PIREC_ABI_MAJOR and whose minor is equal or older than its own; the
 * refusal names the .so path, the plugin id and both versions.
 *
 * Pixels: an image is `height` rows of `width` pixels, origin top-left, with
 * `channels` (1 or 3) float32 samples per pixel, interleaved, in [0, 1].
 * Row y starts at (const char *)data + y * stride_bytes, and
 * stride_bytes >= width * channels * sizeof(float). Rows may be padded: read
 * and write through stride_bytes, never width * channels.
 *
 * Memory: every image is owned by the host. A plugin never frees an image and
 * never keeps a pointer to one after `process` returns. Output images come from
 * `host->image_new` and are handed to the frame with `host->frame_set`.
 *
 * Threads: the host creates one plugin state per worker thread. `process` is
 * never called concurrently on one state, but may run concurrently on
 * different states of the same plugin; shared data (read-only model weights,
 * say) must be safe for that. `create` and `destroy` may run on any thread.
 *
 * Unloading: the host never unloads a plugin (it loads with RTLD_NODELETE),
 * because language runtimes such as Swift's keep pointers into the library.
 *
 * Only fixed-width C types cross this boundary: no bool, no enums, no C++.
 * Structures only ever grow at the end; each starts with its own size so the
 * reader can tell which fields exist.
 */
#ifndef PIREC_PLUGIN_H
#define PIREC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIREC_ABI_MAJOR 1
#define PIREC_ABI_MINOR 2
/* abi_version packs major and minor: (major << 16) | minor. */
#define PIREC_MAKE_VERSION(major, minor) ((uint32_t)(((uint32_t)(major) << 16) | (uint32_t)(minor)))
#define PIREC_VERSION_MAJOR(version) ((uint32_t)(version) >> 16)
#define PIREC_VERSION_MINOR(version) ((uint32_t)(version) & 0xffffu)
#define PIREC_ABI_VERSION PIREC_MAKE_VERSION(PIREC_ABI_MAJOR, PIREC_ABI_MINOR)

/* The exported entry symbol for ABI major 1, as a string for dlsym. */
#define PIREC_PLUGIN_ENTRY_V1 "pirec_plugin_entry_v1"

/* Status codes returned by create and process. */
#define PIREC_OK 0
#define PIREC_ERROR 1     /* the message buffer says why */
#define PIREC_CANCELLED 2 /* the host asked to stop; no output is expected */

/* Log levels for pirec_host.log, as syslog priorities. */
#define PIREC_LOG_ERROR 3
#define PIREC_LOG_WARNING 4
#define PIREC_LOG_INFO 6
#define PIREC_LOG_DEBUG 7

/* Parameter types for pirec_param.type. */
#define PIREC_PARAM_INT 1
#define PIREC_PARAM_FLOAT 2
#define PIREC_PARAM_BOOL 3
#define PIREC_PARAM_STRING 4
/* Since ABI 1.2: a file the plugin reads (a model). The host resolves a relative path
 * against `model_dir` (else the configuration's folder) and passes it absolute; it
 * records the file's SHA-256 in each job's sidecar. In the JSON it is a string. */
#define PIREC_PARAM_PATH 5

/* One image. Owned by the host; see "Memory" above. */
typedef struct pirec_image {
    uint32_t width;        /* pixels, >= 1 */
    uint32_t height;       /* pixels, >= 1 */
    uint32_t channels;     /* 1 (gray) or 3 (RGB) */
    uint32_t stride_bytes; /* bytes from one row to the next */
    float *data;           /* first sample of row 0 */
} pirec_image;

/* A frame: the named image slots ("source", "edge", "color", "image", ...) of
 * one job. Opaque; only the host's functions below touch it. Valid for the
 * duration of one `process` call. */
typedef struct pirec_frame pirec_frame;

/* What the host hands a plugin at `create`. Owned by the host, valid until
 * `destroy` returns; a plugin may keep the pointer in its state. */
typedef struct pirec_host {
    uint32_t struct_size; /* sizeof(pirec_host) as the host was built */
    uint32_t abi_version; /* the host's PIREC_ABI_VERSION */
    void *context;        /* host-private; pass back unchanged */

    /* Writes one log line, prefixed by the host with the plugin id.
     * `message` is copied; any thread may call this. */
    void (*log)(void *context, int32_t level, const char *message);

    /* The image in slot `name` of `frame`, or NULL when the slot is empty.
     * The image belongs to the frame: read it, never write it. */
    const pirec_image *(*frame_get)(const pirec_frame *frame, const char *name);

    /* A new image of the given size, samples uninitialised, owned by the host.
     * Returns NULL when the size is invalid or memory is short. An image not
     * handed to frame_set is freed when `process` returns. */
    pirec_image *(*image_new)(pirec_frame *frame, uint32_t width, uint32_t height, uint32_t channels);

    /* Puts `image` (from image_new on this frame) into slot `name`, replacing
     * what was there. The frame keeps ownership. Returns PIREC_OK, or
     * PIREC_ERROR when the image did not come from image_new on this frame. */
    int32_t (*frame_set)(pirec_frame *frame, const char *name, pirec_image *image);

    /* Non-zero once the host wants the current job stopped (shutdown, timeout).
     * Long loops should check it now and then and return PIREC_CANCELLED. */
    int32_t (*is_cancelled)(const pirec_frame *frame);

    /* Since ABI 1.1 (read it only when struct_size covers it): the configuration's
     * `model_dir` as an absolute path, or NULL when none is set. Plugins resolve relative
     * model paths against it. Owned by the host, valid until `destroy` returns. */
    const char *model_dir;
    /* Since ABI 1.2: names the `with:` key that a failing `create` refuses, so the host
     * reports the error at that key's line and column; call it before returning
     * PIREC_ERROR, and leave the key out of the message in `err`. `key` is copied. Only
     * `create` may call it, on its own thread. */
    void (*refuse_parameter)(void *context, const char *key);
} pirec_host;

/* One parameter a plugin accepts in its step's `with:` block. The host checks
 * the configuration against this table before `create` (type, range, choices,
 * unknown keys) so errors carry the YAML file, line and column. */
typedef struct pirec_param {
    const char *name;          /* key in `with:` */
    uint32_t type;             /* PIREC_PARAM_* */
    uint32_t reserved;         /* zero */
    double minimum;            /* numbers: inclusive lower bound */
    double maximum;            /* numbers: inclusive upper bound */
    const char *choices;       /* NULL, or allowed values separated by '|', e.g. "2|4" */
    const char *default_value; /* the default, as text, e.g. "lanczos3" */
    const char *description;   /* one line */
} pirec_param;

/* Describes a plugin. Static, owned by the plugin library, never freed. */
typedef struct pirec_plugin_descriptor {
    uint32_t struct_size; /* sizeof(pirec_plugin_descriptor) as the plugin was built */
    uint32_t abi_version; /* PIREC_ABI_VERSION the plugin was built against */
    const char *id;          /* e.g. "upscaler": [a-z0-9-]+ */
    const char *version;     /* the plugin's own version, e.g. "1.0.0" */
    const char *description; /* one line */
    const char *const *reads;  /* NULL-terminated slot names the plugin reads */
    const char *const *writes; /* NULL-terminated slot names the plugin writes */
    const pirec_param *params; /* `param_count` entries */
    uint32_t param_count;
    uint32_t reserved; /* zero */

    /* Makes one state from `config_json`, the JSON object of the step's
     * `with:` block, already checked against `params`. Since ABI 1.2 it is
     * complete: every parameter in `params`, with the defaults filled in and
     * PIREC_PARAM_PATH values absolute (before 1.2: only the keys given, "{}"
     * when none).
     * `host` outlives the state. On success stores the state in `*state` and
     * returns PIREC_OK; otherwise writes a NUL-terminated message of at most
     * `errlen` bytes (plugin id not included) into `err` and returns
     * PIREC_ERROR. `config_json` and `err` are host-owned. */
    int32_t (*create)(const char *config_json, const pirec_host *host, void **state,
                      char *err, size_t errlen);

    /* Runs the plugin on one frame: reads its input slots, writes its output
     * slots with host->image_new and host->frame_set. Never called
     * concurrently on one state. Returns PIREC_OK, PIREC_CANCELLED, or
     * PIREC_ERROR with a message in `err` as for create. */
    int32_t (*process)(void *state, pirec_frame *frame, char *err, size_t errlen);

    /* Frees a state made by create. Called once per state, never during process. */
    void (*destroy)(void *state);
} pirec_plugin_descriptor;

/* The entry point of ABI major 1. Returns a static descriptor; never NULL. */
typedef const pirec_plugin_descriptor *(*pirec_plugin_entry_v1_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* PIREC_PLUGIN_H */
