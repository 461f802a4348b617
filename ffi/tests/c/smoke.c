/* The C side of tests/c_program.rs: every part of the C ABI against the
 * embedded server the test runs. Usage: smoke URL SCRATCH_DIR
 * Prints RESTART and waits for a line on stdin while the test restarts the
 * server on the same port; prints OK and exits 0 when every check passed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rig.h"

#define S(text) text, strlen(text)

static void fail(const char *what, int line) {
    size_t len = 0;
    const char *message = rig_last_error(&len);
    fprintf(stderr, "smoke.c:%d: %s failed: %.*s\n", line, what, (int)len, message);
    exit(1);
}

#define CHECK(call) do { if ((call) != RIG_OK) fail(#call, __LINE__); } while (0)
#define EXPECT(cond) do { if (!(cond)) { fprintf(stderr, "smoke.c:%d: %s\n", __LINE__, #cond); exit(1); } } while (0)

/* What the callbacks saw, under one lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int opens, drops, shouts_seen, filtered_seen, then_outcome = -1, reentrant_ok;

static void bump(int *counter, int value) {
    pthread_mutex_lock(&lock);
    *counter = value < 0 ? *counter + 1 : value;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* Waits until *counter >= at_least, up to 15 s. */
static int wait_for(const int *counter, int at_least) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 15;
    pthread_mutex_lock(&lock);
    int rc = 0;
    while (*counter < at_least && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&changed, &lock, &deadline);
    int reached = *counter >= at_least;
    pthread_mutex_unlock(&lock);
    return reached;
}

static void on_status(void *user_data, const rig_status_event *event) {
    (void)user_data;
    fprintf(stderr, "status: %.*s\n", (int)event->text_len, event->text);
    if (event->kind == RIG_STATUS_OPEN) bump(&opens, -1);
    if (event->kind == RIG_STATUS_CLOSED || event->kind == RIG_STATUS_FAILED
        || event->kind == RIG_STATUS_WAITING_TO_RECONNECT) bump(&drops, -1);
}

static void on_shout(void *user_data, const rig_message *message) {
    /* Calls back into the API from a dispatcher thread. */
    rig_socket_health health;
    if (rig_socket_get_health((const rig_socket *)user_data, &health) == RIG_OK && health.frames_in > 0)
        bump(&reentrant_ok, 1);
    EXPECT(strstr(message->payload, "\"hi\"") != NULL);
    bump(&shouts_seen, -1);
}

static void on_filtered(void *user_data, const rig_message *message) {
    (void)user_data;
    EXPECT(strncmp(message->topic, "room:lobby", message->topic_len) == 0);
    bump(&filtered_seen, -1);
}

static void on_reply(void *user_data, const rig_reply *reply) {
    EXPECT(strcmp((const char *)user_data, "cookie") == 0);
    EXPECT(reply->owner == NULL);
    bump(&then_outcome, reply->outcome);
}

/* Pushes and waits; returns the outcome and copies the response. */
static rig_outcome push_wait(const rig_channel *channel, const char *event, const char *json,
                             char *response, size_t size) {
    rig_push *push = NULL;
    rig_reply reply;
    CHECK(rig_channel_push(channel, S(event), json, json ? strlen(json) : 0, 0, &push));
    CHECK(rig_push_wait(push, 15000, &reply));
    EXPECT(rig_push_wait(push, 0, &reply) == RIG_ERR_CLOSED);
    rig_outcome outcome = reply.outcome;
    snprintf(response, size, "%.*s", (int)reply.response_len, reply.response);
    CHECK(rig_reply_clear(&reply));
    CHECK(rig_push_free(push));
    return outcome;
}

static void bad_input(void) {
    rig_engine *engine = NULL;
    EXPECT(rig_engine_new(NULL) == RIG_ERR_NULL_POINTER);
    EXPECT(rig_engine_free((rig_engine *)(uintptr_t)0x7777) == RIG_ERR_BAD_HANDLE);
    size_t len = 0;
    EXPECT(strstr(rig_last_error(&len), "not live") != NULL && len > 0);
    CHECK(rig_engine_new(&engine));
    rig_socket *socket = NULL;
    const char bad_utf8[] = {'w', 's', ':', (char)0xff};
    EXPECT(rig_socket_new(engine, bad_utf8, sizeof bad_utf8, NULL, &socket) == RIG_ERR_INVALID_UTF8);
    EXPECT(rig_socket_new(engine, S("ws://127.0.0.1:9/socket"), NULL, NULL) == RIG_ERR_NULL_POINTER);
    CHECK(rig_engine_free(engine));
    /* Use after free: an error, not a crash. */
    EXPECT(rig_socket_new(engine, S("ws://127.0.0.1:9/socket"), NULL, &socket) == RIG_ERR_BAD_HANDLE);
    EXPECT(rig_engine_free(engine) == RIG_ERR_BAD_HANDLE);
}

int main(int argc, char **argv) {
    EXPECT(argc == 3);
    bad_input();

    char outbox[512];
    snprintf(outbox, sizeof outbox, "%s/outbox.sqlite", argv[2]);
    rig_engine *engine = NULL;
    rig_socket *socket = NULL;
    CHECK(rig_engine_new(&engine));
    rig_socket_options options = {0};
    options.token = "secret";
    options.token_len = strlen("secret");
    options.params_json = "{\"client\":\"c\"}";
    options.params_json_len = strlen(options.params_json);
    options.outbox_path = outbox;
    options.outbox_path_len = strlen(outbox);
    CHECK(rig_socket_new(engine, argv[1], strlen(argv[1]), &options, &socket));
    CHECK(rig_socket_on_status(socket, on_status, NULL));
    CHECK(rig_socket_connect(socket));

    rig_channel *room = NULL, *presence_room = NULL;
    rig_subscription *shouts = NULL, *shout_calls = NULL, *filtered = NULL;
    CHECK(rig_channel_new(socket, S("room:lobby"), S("{\"user\":\"ann\"}"), &room));
    EXPECT(rig_channel_new(socket, S("room:x"), S("{not json"), &room) == RIG_ERR_INVALID_ARGUMENT);
    CHECK(rig_channel_subscribe(room, S("shout"), &shouts));
    CHECK(rig_channel_on(room, S("shout"), on_shout, socket, &shout_calls));
    CHECK(rig_socket_subscribe_filter(socket, S("room:*"), S("shout"), S("payload.text == \"hi\""), &filtered));
    rig_subscription *filter_calls = NULL;
    CHECK(rig_socket_on_filter(socket, S("room:*"), S("shout, other"), NULL, 0, on_filtered, NULL, &filter_calls));
    rig_subscription *bad_filter = NULL;
    EXPECT(rig_socket_subscribe_filter(socket, S("room:*"), NULL, 0, S("payload.n >"), &bad_filter) == RIG_ERR_FILTER);

    rig_push *join = NULL;
    rig_reply reply;
    /* A handle of another type: an error, not a crash. */
    EXPECT(rig_channel_join((const rig_channel *)socket, 0, &join) == RIG_ERR_BAD_HANDLE);
    CHECK(rig_channel_join(room, 0, &join));
    CHECK(rig_push_wait(join, 15000, &reply));
    EXPECT(reply.outcome == RIG_REPLY_OK);
    CHECK(rig_reply_clear(&reply));
    CHECK(rig_push_free(join));

    char response[256];
    EXPECT(push_wait(room, "echo", "{\"n\":1}", response, sizeof response) == RIG_REPLY_OK);
    EXPECT(strcmp(response, "{\"n\":1}") == 0);
    EXPECT(push_wait(room, "echo_error", "{\"reason\":\"nope\"}", response, sizeof response) == RIG_REPLY_ERROR);
    EXPECT(strstr(response, "nope") != NULL);

    /* A broadcast: on the queue, the callback and the filter. */
    rig_push *shout = NULL;
    CHECK(rig_channel_push(room, S("shout"), S("{\"text\":\"hi\"}"), 0, &shout));
    CHECK(rig_push_free(shout)); /* no reply to wait for: shout only broadcasts */
    rig_message message;
    CHECK(rig_subscription_next(shouts, 15000, &message));
    EXPECT(strncmp(message.event, "shout", message.event_len) == 0 && strstr(message.payload, "\"hi\""));
    CHECK(rig_message_clear(&message));
    CHECK(rig_subscription_next(filtered, 15000, &message));
    EXPECT(strncmp(message.topic, "room:lobby", message.topic_len) == 0);
    CHECK(rig_message_clear(&message));
    EXPECT(rig_subscription_next(shouts, 0, &message) == RIG_ERR_TIMED_OUT);
    EXPECT(rig_subscription_next(shout_calls, 0, &message) == RIG_ERR_INVALID_ARGUMENT);
    EXPECT(wait_for(&shouts_seen, 1) && wait_for(&reentrant_ok, 1) && wait_for(&filtered_seen, 1));

    /* A reply by callback. */
    rig_push *push = NULL;
    CHECK(rig_channel_push(room, S("echo"), S("{}"), 0, &push));
    CHECK(rig_push_then(push, on_reply, "cookie"));
    EXPECT(wait_for(&then_outcome, RIG_REPLY_OK) && then_outcome == RIG_REPLY_OK);
    CHECK(rig_push_free(push));

    /* A durable push: on disk first, answered once. */
    CHECK(rig_channel_push_durable(room, S("echo"), S("{\"durable\":true}"), &push));
    CHECK(rig_push_wait(push, 15000, &reply));
    EXPECT(reply.outcome == RIG_REPLY_OK);
    CHECK(rig_reply_clear(&reply));
    CHECK(rig_push_free(push));

    /* Presence. */
    rig_presence *presence = NULL;
    CHECK(rig_channel_new(socket, S("presence:lobby"), S("{\"user_id\":\"ann\"}"), &presence_room));
    CHECK(rig_channel_presence(presence_room, &presence));
    CHECK(rig_channel_join(presence_room, 0, &join));
    CHECK(rig_push_wait(join, 15000, &reply));
    EXPECT(reply.outcome == RIG_REPLY_OK);
    CHECK(rig_reply_clear(&reply));
    CHECK(rig_push_free(join));
    int listed = 0;
    for (int i = 0; i < 300 && !listed; i++) {
        rig_string list;
        CHECK(rig_presence_list(presence, &list));
        listed = strstr(list.ptr, "\"ann\"") != NULL;
        CHECK(rig_string_clear(&list));
        if (!listed) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    EXPECT(listed);

    rig_socket_health health;
    CHECK(rig_socket_get_health(socket, &health));
    EXPECT(health.connected && health.frames_in > 0 && health.outbox_acked >= 1);
    rig_engine_health engine_health;
    CHECK(rig_engine_get_health(engine, &engine_health));
    EXPECT(engine_health.io_thread_alive && engine_health.sockets == 1);

    /* A server restart: the status callback sees the drop and the reconnect. */
    EXPECT(wait_for(&opens, 1));
    printf("RESTART\n");
    fflush(stdout);
    char line[16];
    EXPECT(fgets(line, sizeof line, stdin) != NULL);
    EXPECT(wait_for(&drops, 1) && wait_for(&opens, 2));
    EXPECT(push_wait(room, "echo", "{\"after\":\"restart\"}", response, sizeof response) == RIG_REPLY_OK);

    /* Leave: the reply comes back like any push's. */
    CHECK(rig_channel_leave(presence_room, &push));
    CHECK(rig_push_wait(push, 15000, &reply));
    EXPECT(reply.outcome == RIG_REPLY_OK);
    CHECK(rig_reply_clear(&reply));
    CHECK(rig_push_free(push));

    /* Clean shutdown: every handle freed, in any order. */
    CHECK(rig_subscription_free(shouts));
    CHECK(rig_subscription_free(shout_calls));
    CHECK(rig_subscription_free(filtered));
    CHECK(rig_subscription_free(filter_calls));
    CHECK(rig_presence_free(presence));
    CHECK(rig_channel_free(room));
    CHECK(rig_channel_free(presence_room));
    CHECK(rig_socket_disconnect(socket));
    CHECK(rig_socket_free(socket));
    CHECK(rig_engine_free(engine));
    EXPECT(rig_channel_free(room) == RIG_ERR_BAD_HANDLE);
    EXPECT(rig_live_handles() == 0);
    printf("OK\n");
    return 0;
}
