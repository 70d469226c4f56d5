/*
 * bench-launch: times one run of a VMM process from fork/exec, the way the boot benchmark
 * needs it, and prints one line of key=value facts on stdout.
 *
 *   bench-launch [-m MARKER] [-t TIMEOUT_MS] [-i IDLE_MS -r RAM_MIB] [-o OUT] [-e ERR]
 *                -- COMMAND [ARG...]
 *
 * The clock (CLOCK_MONOTONIC) starts just before fork(). The child's stdout is a pipe read
 * here: the time of the first byte on it, and of the read that completes MARKER, are recorded.
 * Without -i the child runs to its end: the time wait4() returns is the exit time, and
 * ru_maxrss its peak RSS. With -i the child is left IDLE_MS after the marker, then its
 * /proc/PID/smaps is read (total RSS, and the RSS of the guest RAM mapping: the mapping or
 * mappings RAM_MIB to RAM_MIB + 4 MiB in size), then it gets SIGTERM (SIGKILL 5 s later).
 *
 * Output keys: first_byte_us, marker_us (-1 when not seen), exit_us, status (exit code, or
 * 128 + signal), maxrss_kib, cpu_us (user + system), and with -i: idle_rss_kib,
 * idle_guest_ram_kib, idle_guest_ram_maps, idle_outside_kib. A run that hits the timeout
 * prints timeout=1 and exits 2; a bad command line exits 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_GRACE_MS 5000
#define RAM_SLACK_KIB (4 * 1024)

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-launch [-m MARKER] [-t TIMEOUT_MS] [-i IDLE_MS -r RAM_MIB]"
                    " [-o OUT] [-e ERR] -- COMMAND [ARG...]\n");
    exit(64);
}

struct smaps {
    long rss_kib;
    long ram_kib;
    int ram_maps;
};

/* Sums Rss over every mapping, and separately over those sized like guest RAM. */
static int read_smaps(pid_t pid, long ram_kib, struct smaps *s)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    memset(s, 0, sizeof *s);
    long map_kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        long v;
        if (sscanf(line, "Size: %ld kB", &v) == 1) {
            map_kib = v;
        } else if (sscanf(line, "Rss: %ld kB", &v) == 1) {
            s->rss_kib += v;
            if (ram_kib > 0 && map_kib >= ram_kib && map_kib <= ram_kib + RAM_SLACK_KIB) {
                s->ram_kib += v;
                s->ram_maps++;
            }
        }
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    const char *marker = NULL, *out_path = NULL, *err_path = "/dev/null";
    long timeout_ms = 30000, idle_ms = -1, ram_mib = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+m:t:i:r:o:e:")) != -1) {
        switch (opt) {
        case 'm': marker = optarg; break;
        case 't': timeout_ms = atol(optarg); break;
        case 'i': idle_ms = atol(optarg); break;
        case 'r': ram_mib = atol(optarg); break;
        case 'o': out_path = optarg; break;
        case 'e': err_path = optarg; break;
        default: usage();
        }
    }
    if (optind >= argc || timeout_ms <= 0 || (idle_ms >= 0 && (marker == NULL || ram_mib <= 0)))
        usage();

    int out_fd = -1;
    if (out_path != NULL) {
        out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0) {
            perror(out_path);
            return 64;
        }
    }
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        perror("pipe2");
        return 1;
    }

    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || err < 0 || dup2(in, 0) < 0 || dup2(pipe_fds[1], 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        execvp(argv[optind], argv + optind);
        _exit(127);
    }
    close(pipe_fds[1]);

    size_t mlen = marker != NULL ? strlen(marker) : 0;
    char window[4096 + 256];
    size_t held = 0;
    char buf[4096];
    int64_t first_byte = -1, marker_at = -1, deadline = t0 + timeout_ms * 1000;
    int64_t idle_at = -1, kill_at = -1;
    int timed_out = 0, sampled = 0, open_pipe = 1;
    struct smaps sm = {0, 0, 0};

    while (open_pipe) {
        int64_t now = now_us();
        int64_t wake = deadline;
        if (idle_at >= 0 && !sampled && idle_at < wake)
            wake = idle_at;
        if (kill_at >= 0 && kill_at < wake)
            wake = kill_at;
        if (now >= deadline) {
            if (timed_out)
                break;      /* killed, yet something still holds the pipe open */
            timed_out = 1;
            kill(pid, SIGKILL);
            deadline = now + KILL_GRACE_MS * 1000;
            continue;
        }
        if (idle_at >= 0 && !sampled && now >= idle_at) {
            read_smaps(pid, ram_mib * 1024, &sm);
            sampled = 1;
            kill(pid, SIGTERM);
            kill_at = now + KILL_GRACE_MS * 1000;
            continue;
        }
        if (kill_at >= 0 && now >= kill_at) {
            kill(pid, SIGKILL);
            kill_at = -1;
            continue;
        }
        struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
        int wait_ms = (int)((wake - now + 999) / 1000);
        int r = poll(&p, 1, wait_ms < 0 ? 0 : wait_ms);
        if (r < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        if (r <= 0)
            continue;
        ssize_t n = read(pipe_fds[0], buf, sizeof buf);
        int64_t t = now_us();
        if (n <= 0) {
            open_pipe = 0;
            break;
        }
        if (first_byte < 0)
            first_byte = t - t0;
        if (out_fd >= 0 && write(out_fd, buf, (size_t)n) != n)
            perror("write");
        if (mlen > 0 && marker_at < 0) {
            /* Keep the last mlen - 1 bytes so a marker split across reads is still found. */
            size_t keep = held < mlen ? held : mlen - 1;
            memmove(window, window + held - keep, keep);
            size_t take = (size_t)n < sizeof window - keep ? (size_t)n : sizeof window - keep;
            memcpy(window + keep, buf + n - take, take);
            held = keep + take;
            if (memmem(window, held, marker, mlen) != NULL) {
                marker_at = t - t0;
                if (idle_ms >= 0)
                    idle_at = t + idle_ms * 1000;
            }
        }
    }

    /*
     * The pipe closed: the process is exiting (or closed its stdout early). Wait for the exit
     * through a pidfd, so that a process that lingers still meets the deadline; then reap it.
     */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        for (;;) {
            int64_t now = now_us();
            if (now >= deadline) {
                kill(pid, SIGKILL);
                timed_out = 1;
                break;
            }
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            int r = poll(&p, 1, (int)((deadline - now + 999) / 1000));
            if (r > 0 || (r < 0 && errno != EINTR))
                break;
        }
        close(pidfd);
    }
    int status = 0;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
        ;
    int64_t exit_us = now_us() - t0;
    if (w < 0) {
        perror("wait4");
        return 1;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int64_t cpu_us = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000
                     + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;

    printf("first_byte_us=%lld marker_us=%lld exit_us=%lld status=%d maxrss_kib=%ld cpu_us=%lld",
           (long long)first_byte, (long long)marker_at, (long long)exit_us, code, ru.ru_maxrss,
           (long long)cpu_us);
    if (idle_ms >= 0) {
        printf(" idle_sampled=%d idle_rss_kib=%ld idle_guest_ram_kib=%ld idle_guest_ram_maps=%d"
               " idle_outside_kib=%ld",
               sampled, sm.rss_kib, sm.ram_kib, sm.ram_maps, sm.rss_kib - sm.ram_kib);
    }
    if (timed_out)
        printf(" timeout=1");
    printf("\n");
    return timed_out ? 2 : 0;
}
