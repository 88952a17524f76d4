/* stamp: append one line "<CLOCK_REALTIME ns> <label> <scheduled>" to a file.
 *
 *   stamp LABEL [FILE]      (FILE defaults to $STAMP_FILE)
 *
 * <scheduled> is $SCHEDULE_SCHEDULED_FOR when the parent set it (schedule and
 * bench/floor.c do), else "-". The clock is read first thing, and the line is
 * written with a single write() on an O_APPEND descriptor, so concurrent
 * stamps never interleave. Built with -O2 -static to keep exec cheap. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const char *label = argc > 1 ? argv[1] : "-";
    const char *file = argc > 2 ? argv[2] : getenv("STAMP_FILE");
    const char *sched = getenv("SCHEDULE_SCHEDULED_FOR");
    if (!file || !*file) {
        fputs("stamp: no file (argv[2] or $STAMP_FILE)\n", stderr);
        return 2;
    }
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%lld %s %s\n",
                     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, label,
                     sched && *sched ? sched : "-");
    if (n < 0 || n >= (int)sizeof buf) return 2;
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { perror("stamp: open"); return 1; }
    if (write(fd, buf, (size_t)n) != n) { perror("stamp: write"); return 1; }
    close(fd);
    return 0;
}
