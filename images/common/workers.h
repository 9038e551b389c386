/* Process plumbing shared by labserver and labclient. The parent blocks SIGINT, SIGTERM and SIGCHLD and
 * takes them with sigtimedwait between its reports; workers are forked with those signals back to normal;
 * a worker that exits early is reported as a JSON warning; per-worker counters live in shared memory. */
#ifndef LAB_WORKERS_H
#define LAB_WORKERS_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Descriptors this process holds now (stdio, epoll, listeners...): what the open-file limit leaves for
 * sockets is the limit minus these. The directory's own descriptor is not counted. */
static inline long open_descriptors(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;

    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory itself */
}

/* Zeroed memory the parent and its forked workers share, or NULL. */
static inline void *shared_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void on_sigchld(int sig)
{
    (void)sig;
}

/* In the parent, before forking: the signals it waits for, blocked, with SIGCHLD caught rather than ignored.
 * SIGUSR2 is the orchestrator's "go on" (labclient: start the hold), taken like the others. */
static inline void block_parent_signals(sigset_t *set)
{
    signal(SIGCHLD, on_sigchld);
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGHUP);
    sigprocmask(SIG_BLOCK, set, NULL);
}

/* fork() for a worker: in the child, the parent's signal mask and SIGCHLD handler are undone, but for
 * SIGHUP, which stays blocked until the worker waits for it (labclient's "enough"). */
static inline pid_t fork_worker(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &hup, NULL);
    }
    return pid;
}

/* Collects workers that exited and says so on stdout; their slot in pids becomes 0. */
static inline void reap_workers(pid_t *pids, int n)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int w = 0; w < n; w++) {
            if (pids[w] != pid)
                continue;
            pids[w] = 0;
            printf("{\"type\":\"warning\",\"message\":\"worker %d (pid %d) exited: %s %d\"}\n", w,
                   (int)pid, WIFSIGNALED(status) ? "signal" : "status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            fflush(stdout);
        }
    }
}

/* The parent's wait between reports: up to `ms`; the signal that came (workers that exited are reaped), or 0.
 * With `info`, what came with it (a value sent by sigqueue, as `pkill --queue` sends). */
static inline int wait_for_signal(const sigset_t *set, long long ms, pid_t *pids, int n, siginfo_t *info)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    int sig = sigtimedwait(set, info, &ts);
    if (sig == SIGCHLD)
        reap_workers(pids, n);
    return sig > 0 ? sig : 0;
}

/* Passes a signal the parent took on to every worker, with the value it came with, if any. */
static inline void forward_signal(pid_t *pids, int n, int sig, const siginfo_t *info)
{
    for (int w = 0; w < n; w++) {
        if (pids[w] <= 0)
            continue;
        if (info->si_code == SI_QUEUE)
            sigqueue(pids[w], sig, info->si_value);
        else
            kill(pids[w], sig);
    }
}

/* The same, true when SIGINT or SIGTERM came (time to stop). */
static inline bool wait_for_stop(const sigset_t *set, long long ms, pid_t *pids, int n)
{
    int sig = wait_for_signal(set, ms, pids, n, NULL);
    return sig == SIGINT || sig == SIGTERM;
}

#endif
