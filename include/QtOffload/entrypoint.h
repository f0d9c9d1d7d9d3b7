// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/impl/completion.h>
#include <QtOffload/threadpool.h>

#include <QtCore/QStringList>

class QCoreApplication;

namespace QtOffload {

//! How an Entrypoint sets up the default pool and how long its shutdown waits.
struct EntrypointOptions
{
    //! Threads of the default pool; <= 0 means QTOFFLOAD_POOL_SIZE or QThread::idealThreadCount().
    int poolSize = 0;
    //! How long the shutdown waits for separate threads and the pool before reporting them.
    std::chrono::milliseconds shutdownTimeout = std::chrono::seconds(5);
    //! The default pool's name, as ThreadPool::name() and its threads' names show it.
    QString poolName = QStringLiteral("default");
};

class EntrypointPrivate;

/*!
  The seed's entrypoint / new_event_loop: sets up the application object,
  the default pool and an orderly shutdown.

  Uses the existing QCoreApplication/QGuiApplication/QApplication, or
  creates a QCoreApplication from \a argc/\a argv. Installs a ThreadPool of
  poolSize threads as ThreadPool::defaultPool().

  On destruction (or shutdown()), in this order: the pool stops taking jobs,
  cancels its queued ones (their futures report cancelled) and asks its
  running ones to stop; so are the jobs running on a QThreadPool (a
  generator's producer finds its stream closed, a job taking a StopToken or
  a JobControl sees its stop requested); pending and new invokeBlocking()
  calls into the main thread fail with ShutdownError; every
  threadedSeparate() thread gets its stop request and is joined within
  shutdownTimeout (one that ignores it is reported by name with qWarning,
  not waited on forever); the pool's running jobs are waited for, within
  shutdownTimeout too. A generator whose producer runs on a ThreadPool of
  your own is closed by that pool's shutdown, or as its owner thread ends. Then the previous default pool is
  restored and an application object it created is destroyed. A new
  Entrypoint may be made afterwards. Create it on the main thread.

  What a shutdown costs at most: shutdownTimeout for the separate threads,
  then shutdownTimeout for the pool's running jobs. A thread that ignores
  its stop request is given up on once: the process's exit does not wait
  for it again (without an Entrypoint, exit waits up to 2 s for separate
  threads, then leaves them).
*/
class QTOFFLOAD_EXPORT Entrypoint
{
public:
    //! Sets up the application (made from \a argc and \a argv if none exists) and the default pool.
    Entrypoint(int &argc, char **argv, EntrypointOptions options = {});
    ~Entrypoint();
    Entrypoint(const Entrypoint &) = delete;
    Entrypoint &operator=(const Entrypoint &) = delete;

    //! The application object: the one that existed, or the QCoreApplication it created.
    QCoreApplication *application() const;
    /*!
      The default pool it installed. It stays valid as long as the
      Entrypoint, after shutdown() too, when it takes no more jobs
      (ShutdownError). Null only after a shutdown that had to leave one of
      its threads running a job (reported with qWarning).
    */
    ThreadPool *pool() const;

    /*!
      The seed's loop.run_until_complete(): runs in the event loop until done
      and returns the result, or rethrows. \a f may be a callable (called in
      the loop; if it returns a QFuture or QCoro::Task, that is awaited too),
      a QFuture<T> or a QCoro::Task<T>. A cancelled future throws CancelledError.
    */
    template<typename F> auto run(F &&f)
    {
        using V = std::remove_cvref_t<F>;
        if constexpr (detail::IsQFuture<V>::value || detail::IsTask<V>::value) {
            auto completion = detail::observe(V(std::forward<F>(f)));
            completion->waitInEventLoop();
            return completion->take();
        } else {
            auto completion = std::make_shared<detail::CompletionOf<detail::AwaitedResultOf<F>>>();
            callInEventLoop([&f, completion] { detail::completeFromCall(f, completion); }, completion);
            completion->waitInEventLoop();
            return completion->take();
        }
    }

    /*!
      Runs the shutdown sequence now (the destructor calls it too). Returns
      the names of threads that did not stop within shutdownTimeout.
    */
    QStringList shutdown();

private:
    //! Calls \a call from the event loop's next turn; its exceptions fail \a completion.
    void callInEventLoop(std::function<void()> call, std::shared_ptr<detail::Completion> completion);

    std::unique_ptr<EntrypointPrivate> d;
};

} // namespace QtOffload
