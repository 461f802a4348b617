/* Joins room:lobby on a running `rig serve`, pushes, receives a broadcast
 * and prints the presence list of presence:lobby.
 *
 *   cargo build -p rig-ffi
 *   cc -I ffi/include ffi/examples/c/lobby.c target/debug/librig_ffi.a \
 *      -lpthread -ldl -lm -o lobby
 *   rig serve &            # ws://127.0.0.1:4000/socket
 *   ./lobby ws://127.0.0.1:4000/socket [TOKEN]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig.h"

/* Strings go in as pointer + length. */
#define S(text) text, strlen(text)

static void check(rig_error code, const char *what) {
    if (code == RIG_OK) return;
    size_t len = 0;
    const char *message = rig_last_error(&len);
    fprintf(stderr, "%s: error %d: %.*s\n", what, (int)code, (int)len, message);
    exit(1);
}

/* Waits for a push (or join) and prints its outcome. */
static void await(rig_push *push, const char *what) {
    rig_reply reply;
    check(rig_push_wait(push, 10000, &reply), what);
    printf("%s: %.*s %.*s\n", what, (int)reply.status_len, reply.status,
           (int)reply.response_len, reply.response);
    int ok = reply.outcome == RIG_REPLY_OK;
    check(rig_reply_clear(&reply), "rig_reply_clear");
    check(rig_push_free(push), "rig_push_free");
    if (!ok) exit(1);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s ws://HOST:PORT/socket [TOKEN]\n", argv[0]);
        return 2;
    }
    rig_engine *engine;
    rig_socket *socket;
    rig_socket_options options = {0};
    if (argc > 2) {
        options.token = argv[2];
        options.token_len = strlen(argv[2]);
    }
    check(rig_engine_new(&engine), "rig_engine_new");
    check(rig_socket_new(engine, argv[1], strlen(argv[1]), &options, &socket), "rig_socket_new");
    check(rig_socket_connect(socket), "rig_socket_connect");

    rig_channel *room;
    rig_subscription *shouts;
    rig_push *push;
    check(rig_channel_new(socket, S("room:lobby"), NULL, 0, &room), "rig_channel_new");
    check(rig_channel_subscribe(room, S("shout"), &shouts), "rig_channel_subscribe");
    check(rig_channel_join(room, 0, &push), "rig_channel_join");
    await(push, "join");

    check(rig_channel_push(room, S("echo"), S("{\"n\":1}"), 0, &push), "rig_channel_push");
    await(push, "echo");

    /* The server broadcasts a shout to every member, this one included. */
    check(rig_channel_push(room, S("shout"), S("{\"text\":\"hello from C\"}"), 0, &push), "shout");
    check(rig_push_free(push), "rig_push_free");
    rig_message message;
    check(rig_subscription_next(shouts, 10000, &message), "rig_subscription_next");
    printf("broadcast: %.*s %.*s\n", (int)message.event_len, message.event,
           (int)message.payload_len, message.payload);
    check(rig_message_clear(&message), "rig_message_clear");

    /* Presence: track it before joining, so the first state is seen. */
    rig_channel *lobby;
    rig_presence *presence;
    check(rig_channel_new(socket, S("presence:lobby"), S("{\"user_id\":\"c-example\"}"), &lobby),
          "rig_channel_new");
    check(rig_channel_presence(lobby, &presence), "rig_channel_presence");
    check(rig_channel_join(lobby, 0, &push), "rig_channel_join");
    await(push, "presence join");
    /* The state arrives just after the join reply: ask until it lists us. */
    rig_string list = {0};
    for (int tries = 0; tries < 100; tries++) {
        check(rig_presence_list(presence, &list), "rig_presence_list");
        if (strstr(list.ptr, "c-example") != NULL) break;
        check(rig_string_clear(&list), "rig_string_clear");
        rig_subscription_next(shouts, 50, &message); /* a 50 ms pause */
    }
    printf("presence: %.*s\n", (int)list.len, list.ptr);
    check(rig_string_clear(&list), "rig_string_clear");

    check(rig_presence_free(presence), "rig_presence_free");
    check(rig_subscription_free(shouts), "rig_subscription_free");
    check(rig_channel_free(lobby), "rig_channel_free");
    check(rig_channel_free(room), "rig_channel_free");
    check(rig_socket_free(socket), "rig_socket_free");
    check(rig_engine_free(engine), "rig_engine_free");
    return 0;
}
