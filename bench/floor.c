/* floor: the best a per-second scheduler could do on this machine.
 *
 *   floor SECONDS sh|exec STAMP LABEL FILE [OFFSET_MS]
 *
 * For each of the next SECONDS whole seconds, OFFSET_MS past each (0 if not
 * given): sleep until that instant with
 * clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME), then posix_spawn either
 * `/bin/sh -c "STAMP LABEL FILE"` (sh) or STAMP LABEL FILE itself (exec), with
 * SCHEDULE_SCHEDULED_FOR set to the instant (RFC3339 UTC) as schedule does, and
 * reap the child. No bookkeeping of any kind: spawn cost only.
 *
 * Beside a scheduler under test, the floor runs half a second off its
 * instants: in the same seconds (the machine's state drifts), never
 * competing with it for the CPUs. At the same instant, the two spawns
 * collide, and a peer that is fast collides more than one that is slow. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: floor SECONDS sh|exec STAMP LABEL FILE [OFFSET_MS]\n");
        return 2;
    }
    long seconds = atol(argv[1]);
    long offset_ms = argc == 7 ? atol(argv[6]) : 0;
    if (offset_ms < 0 || offset_ms > 999) {
        fprintf(stderr, "floor: OFFSET_MS must be 0 to 999\n");
        return 2;
    }
    int use_sh = strcmp(argv[2], "sh") == 0;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s %s", argv[3], argv[4], argv[5]);
    char *sh_argv[] = {"sh", "-c", cmd, NULL};
    char *ex_argv[] = {argv[3], argv[4], argv[5], NULL};

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_t next = now.tv_sec + 1;
    for (long i = 0; i < seconds; i++, next++) {
        char iso[64];
        struct tm tm;
        gmtime_r(&next, &tm);
        size_t len = strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
        if (offset_ms)
            snprintf(iso + len, sizeof iso - len, ".%03ldZ", offset_ms);
        else
            snprintf(iso + len, sizeof iso - len, "Z");
        setenv("SCHEDULE_SCHEDULED_FOR", iso, 1);
        struct timespec at = {.tv_sec = next, .tv_nsec = offset_ms * 1000000L};
        int rc;
        while ((rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL)) == EINTR) {}
        pid_t pid;
        rc = use_sh ? posix_spawn(&pid, "/bin/sh", NULL, NULL, sh_argv, environ)
                    : posix_spawn(&pid, argv[3], NULL, NULL, ex_argv, environ);
        if (rc != 0) {
            fprintf(stderr, "floor: posix_spawn: %s\n", strerror(rc));
            return 1;
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    return 0;
}
