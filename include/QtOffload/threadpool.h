// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/errors.h>
#include <QtOffload/impl/job.h>
#include <QtOffload/priority.h>

#include <QtCore/QObject>
#include <QtCore/QStringList>

// co_await on the QFutures the pool and the wrappers hand out, with this header alone.
#include <qcoro/qcorofuture.h>

#include <chrono>
#include <memory>

namespace QtOffload {

class ThreadPoolPrivate;

/*!
  The seed's "fast and simple" thread pool. Jobs are move-only (QThreadPool
  in Qt 6.4 can't take those), threads are named "QtOffload pool <name> #i",
  start lazily and grow on demand up to maxThreadCount(). Submitting is
  lock-free: it never waits for the workers' lock. An idle worker spins
  briefly before it sleeps, so a burst of small jobs does not pay a wake-up
  per job; a spinning worker yields its core now and then, so the thread
  that submits is not starved. Jobs start in the order they were submitted,
  Interactive ones ahead of the others (see Latency below).

  The futures the pool hands out are safe to then() on Qt 6.4, whose
  QFuture::then() can otherwise run a continuation twice when the future
  finishes while then() attaches it (QTBUG-118032): the pool finishes them
  so that the continuation runs exactly once.

  Starvation: a job that waits on another job's future of the same pool
  would deadlock a full pool. When every thread is busy and the queue has not
  moved for starvationTimeout() (default 500 ms), the pool starts one extra
  "overflow" thread, and another after each further timeout, up to
  4 x maxThreadCount() + 16 threads; overflow threads exit as soon as they are idle.
  statistics().overflowThreads counts them. A timeout of Forever disables it.

  Latency: a job submitted with JobPriority::Interactive (run(priority, f),
  threaded(f).withPriority()) starts ahead of the queue, on a reserved
  thread when every worker is busy (see JobPriority).

  All members are thread-safe.
*/
class QTOFFLOAD_EXPORT ThreadPool : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int maxThreadCount READ maxThreadCount CONSTANT)
    Q_PROPERTY(QString name READ name CONSTANT)
    Q_PROPERTY(QtOffload::ThreadPriority threadPriority READ threadPriority WRITE setThreadPriority NOTIFY
                   threadPriorityChanged)

public:
    //! What the pool did so far, for monitoring and tests.
    struct Statistics
    {
        int threads = 0; //!< worker threads alive now (overflow included)
        qint64 submitted = 0; //!< jobs accepted by submit()
        qint64 succeeded = 0; //!< jobs that returned normally
        qint64 failed = 0; //!< jobs that threw (the exception went to their future, or a warning for start())
        qint64 cancelled = 0; //!< jobs cancelled before they started
        qint64 queued = 0; //!< waiting for a thread now
        qint64 running = 0; //!< running now
        qint64 overflowThreads = 0; //!< extra threads started to break starvation, in total
        std::chrono::nanoseconds totalRunTime {
            0
        }; //!< busy time of the threads, summed; a stretch of jobs counts once its thread goes idle
    };

    //! \a maxThreads <= 0 means QThread::idealThreadCount().
    explicit ThreadPool(int maxThreads = 0, QObject *parent = nullptr);
    //! A pool whose threads are named "QtOffload pool <name> #i".
    ThreadPool(int maxThreads, const QString &name, QObject *parent = nullptr);

    /*!
      Cancels the queued jobs (their futures report cancelled), asks the
      running ones to stop (a generator's producer finds its stream closed:
      its next yield returns false, so one blocked on a full buffer returns;
      a job taking a StopToken or a JobControl sees its stop requested),
      waits for them and joins every thread. Call it from a thread that is not one
      of this pool's workers; the thread of a generator it feeds is fine.
    */
    ~ThreadPool() override;

    //! The threads the pool grows to (overflow threads aside).
    int maxThreadCount() const noexcept;
    //! The name its threads carry.
    QString name() const;
    //! A snapshot of the counters. Thread: any.
    Statistics statistics() const;

    //! How long every thread may be busy with work waiting before an overflow thread starts.
    std::chrono::milliseconds starvationTimeout() const noexcept;
    //! Sets starvationTimeout(); QtOffload::Forever turns overflow threads off.
    void setStarvationTimeout(std::chrono::milliseconds timeout);

    /*!
      The priority of the pool's workers (not of its reserved thread, see
      JobPriority). Default: Normal. Background keeps the GUI thread's timer
      on time while every worker is busy (4,000 jobs of 100 us on 2 cores:
      p99 gap 1.1-1.4 ms against 5.0 ms) for 4% more total time on a quiet
      machine; but beside another CPU-bound process the workers get only
      what that process leaves (the same jobs took 1.56x as long), which is
      why it is not the default.
    */
    ThreadPriority threadPriority() const noexcept;
    /*!
      Sets threadPriority(). Each worker takes it on before its next job. A
      worker that the system does not let raise its priority again (Linux
      without CAP_SYS_NICE: back to Normal from Background or Idle) keeps
      the lower one, and leaves the pool when it is next idle; the threads
      started after it run at the new priority. Thread: any; emits
      threadPriorityChanged() on the calling thread when the value changes.
    */
    void setThreadPriority(ThreadPriority priority);

    /*!
      Runs f(args...) on the pool, or f(stopToken, args...) when f takes a
      StopToken (or a JobControl &) first (the future's cancel() requests the stop); the future
      reports the result or rethrows f's exception as its own type.
      Cancelling the future before the job starts means it never runs.
      Throws ShutdownError while the pool is being destroyed.
    */
    template<typename F, typename... Args>
    requires(!std::is_same_v<std::decay_t<F>, JobPriority>)
        [[nodiscard("the future is the only way to learn the job's result or failure")]] auto run(F &&f, Args &&...args)
    {
        return detail::submitCall(*this, std::forward<F>(f), std::forward<Args>(args)...);
    }

    //! run(f, args...) with the job submitted at \a priority (see JobPriority).
    template<typename F, typename... Args>
    [[nodiscard("the future is the only way to learn the job's result or failure")]] auto run(JobPriority priority,
                                                                                              F &&f, Args &&...args)
    {
        return detail::submitCall(detail::PrioritizedTarget<ThreadPool> { *this, priority }, std::forward<F>(f),
                                  std::forward<Args>(args)...);
    }

    /*!
      Fire and forget, like QThreadPool::start(): runs f(args...) on the pool
      with no future to allocate or report to. An exception escaping f is
      reported with qWarning and counted as failed. Still queued when the
      pool shuts down, it is dropped unrun and counted as cancelled. Throws
      ShutdownError while the pool is being destroyed. Thread: any.
    */
    template<typename F, typename... Args> void start(F &&f, Args &&...args)
    {
        auto body = detail::bindArguments(std::forward<F>(f), std::forward<Args>(args)...);
        submit(std::make_unique<detail::CallJob<decltype(body)>>(std::move(body)));
    }

    /*!
      Stops taking jobs (submit() throws ShutdownError from now on), cancels
      the queued jobs, asks the running ones to stop (as the destructor does)
      and waits up to \a timeout for them.
      Returns the names of the threads still running a job then (empty when
      the pool is idle). May be called again, e.g. first with a zero timeout
      to refuse and cancel, later to wait. The destructor does the same with
      no timeout.
    */
    QStringList shutdown(std::chrono::milliseconds timeout = Forever);

    /*!
      Waits until no job is queued or running, at most \a timeout. Returns
      true when the pool went idle. Must not be called from one of its workers.
    */
    bool waitForDone(std::chrono::milliseconds timeout = Forever) const;

    /*!
      The pool the wrappers use when none is named (the seed's
      loop.set_default_executor). Unless setDefault() installed one, a
      process-wide pool sized by QTOFFLOAD_POOL_SIZE (default
      QThread::idealThreadCount()) is created on first use. Returns nullptr
      only after that pool was destroyed at process exit.
    */
    static ThreadPool *defaultPool();

    /*!
      Makes \a pool the default; nullptr reverts to the process-wide pool.
      Destroying the default pool reverts it too. Must not race with
      submissions to the default pool.
    */
    static void setDefault(ThreadPool *pool) noexcept;

Q_SIGNALS:
    //! threadPriority() changed, to \a priority.
    void threadPriorityChanged(QtOffload::ThreadPriority priority);

private:
    friend struct detail::SubmitAccess;
    //! Queues a job. Throws ShutdownError (and cancels the job) while the pool is being destroyed.
    void submit(detail::JobPtr job);

    std::unique_ptr<ThreadPoolPrivate> d;
};

} // namespace QtOffload
