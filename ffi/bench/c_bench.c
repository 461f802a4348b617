/* rig from C at a paced rate: joins a stream:* topic, takes every event
 * from a pollable subscription (rig_subscription_next) on this thread,
 * and prints one JSON line like rig-bench's: events, events_per_s,
 * latency_us p50/p99 (server stamp `t` to this thread, wall clock) and
 * cpu_pct (getrusage over the stream). Driven by
 * benches/c_binding_overhead.py against rig-bench --consumer subscription.
 *
 *   c_bench URL TOPIC RATE COUNT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "rig.h"

static uint64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void check(rig_error code, const char *what) {
    if (code != RIG_OK) {
        size_t len = 0;
        const char *message = rig_last_error(&len);
        fprintf(stderr, "c_bench: %s: %.*s\n", what, (int)len, message);
        exit(3);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: c_bench URL TOPIC RATE COUNT\n");
        return 2;
    }
    const char *url = argv[1], *topic = argv[2];
    long rate = atol(argv[3]), count = atol(argv[4]);
    uint64_t *latency = calloc((size_t)count, sizeof *latency);
    if (!latency) return 3;

    rig_engine *engine = NULL;
    check(rig_engine_new(&engine), "engine");
    rig_socket_options options = {0};
    rig_socket *socket = NULL;
    check(rig_socket_new(engine, url, strlen(url), &options, &socket), "socket");
    check(rig_socket_connect(socket), "connect");
    char params[128];
    snprintf(params, sizeof params, "{\"rate\":%ld,\"count\":%ld,\"pace\":\"frame\"}", rate, count);
    rig_channel *channel = NULL;
    check(rig_channel_new(socket, topic, strlen(topic), params, strlen(params), &channel), "channel");
    rig_subscription *events = NULL;
    check(rig_channel_subscribe(channel, "event", 5, &events), "subscribe");

    double cpu_before = cpu_s();
    uint64_t started = wall_us();
    rig_push *join = NULL;
    check(rig_channel_join(channel, 10000, &join), "join");
    rig_reply reply;
    check(rig_push_wait(join, 10000, &reply), "join wait");
    if (reply.outcome != RIG_REPLY_OK) {
        fprintf(stderr, "c_bench: join refused\n");
        return 3;
    }
    rig_reply_clear(&reply);
    rig_push_free(join);

    long seen = 0;
    rig_message message;
    while (seen < count) {
        check(rig_subscription_next(events, 10000, &message), "next event");
        const char *t = strstr(message.payload, "\"t\":");
        uint64_t now = wall_us();
        if (t) {
            uint64_t sent = strtoull(t + 4, NULL, 10);
            latency[seen] = now > sent ? now - sent : 0;
        }
        seen++;
        rig_message_clear(&message);
    }
    double elapsed = (double)(wall_us() - started) / 1e6;
    double cpu = cpu_s() - cpu_before;
    qsort(latency, (size_t)count, sizeof *latency, cmp_u64);
    printf("{\"events\":%ld,\"events_per_s\":%.0f,\"latency_us\":{\"p50\":%" PRIu64
           ",\"p99\":%" PRIu64 "},\"cpu_pct\":%.3f}\n",
           seen, (double)seen / elapsed, latency[count / 2], latency[count * 99 / 100],
           cpu / elapsed * 100.0);
    rig_subscription_free(events);
    rig_channel_free(channel);
    rig_socket_free(socket);
    rig_engine_free(engine);
    free(latency);
    return 0;
}
