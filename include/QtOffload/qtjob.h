// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/errors.h>
#include <QtOffload/qtoffloadglobal.h>

#include <QtCore/QFuture>
#include <QtCore/QObject>
#include <QtCore/QVariant>

#include <functional>
#include <memory>
#include <type_traits>

namespace QtOffload {

class QtJobPrivate;

/*!
  A QObject handle for one job's QFuture, for QML and for widgets that bind
  to properties: a C++ Q_INVOKABLE returns `QtJob::watch(threaded(f)(...), this)`
  and QML binds to status, progress and result, and calls cancel() or sets
  paused.

  It lives in the thread that created it. Progress comes from the future
  (JobControl, QPromise or QtConcurrent), as a QFutureWatcher sees it; the
  end comes through that thread's delivery lane, with the future's last
  progress first, then result or errorString, then status and finished().

  Works for any QFuture, QtOffload's or not. The result is a QVariant, so T
  must be copyable (a static_assert says so).
*/
class QTOFFLOAD_EXPORT QtJob : public QObject
{
    Q_OBJECT
    Q_PROPERTY(Status status READ status NOTIFY statusChanged)
    Q_PROPERTY(bool running READ isRunning NOTIFY statusChanged)
    Q_PROPERTY(bool paused READ isPaused WRITE setPaused NOTIFY pausedChanged)
    Q_PROPERTY(int progressMinimum READ progressMinimum NOTIFY progressChanged)
    Q_PROPERTY(int progressMaximum READ progressMaximum NOTIFY progressChanged)
    Q_PROPERTY(int progressValue READ progressValue NOTIFY progressChanged)
    Q_PROPERTY(QString progressText READ progressText NOTIFY progressChanged)
    Q_PROPERTY(qreal progress READ progress NOTIFY progressChanged)
    Q_PROPERTY(QVariant result READ result NOTIFY finished)
    Q_PROPERTY(QString errorString READ errorString NOTIFY finished)

public:
    //! Where the job is.
    enum class Status {
        Running, //!< not finished yet (queued, running or suspended)
        Succeeded, //!< finished with a result (or none, for void)
        Failed, //!< the job threw: errorString says what
        Cancelled, //!< cancelled before it finished
    };
    Q_ENUM(Status)

    //! A handle for \a future, owned by \a parent.
    template<typename T> [[nodiscard]] static QtJob *watch(const QFuture<T> &future, QObject *parent = nullptr);

    ~QtJob() override;

    //! Running until the job finished; then how it ended.
    Status status() const noexcept;
    //! status() is Running.
    bool isRunning() const noexcept { return status() == Status::Running; }
    //! The future is suspending or suspended (JobControl::suspendIfRequested() holds it).
    bool isPaused() const;
    //! QFuture::setSuspended(). Only a job that calls a check point really pauses.
    void setPaused(bool paused);

    //! The future's progress range, as QFuture::progressMinimum() and progressMaximum().
    int progressMinimum() const noexcept;
    //! The end of the future's progress range.
    int progressMaximum() const noexcept;
    //! The future's progress value; the last one from finished() on.
    int progressValue() const noexcept;
    //! The text of the future's latest progress value.
    QString progressText() const;
    //! The value's place in the range, 0 to 1; 0 without a range.
    qreal progress() const noexcept;

    //! The job's result once it succeeded; invalid before, for void and on failure.
    QVariant result() const;
    //! What the job threw, once it failed; empty otherwise.
    QString errorString() const;

public Q_SLOTS:
    //! QFuture::cancel(): a job that has not started never runs; a JobControl job sees a stop request.
    void cancel();
    //! setPaused(true): the job holds at its next check point.
    void pause() { setPaused(true); }
    //! setPaused(false).
    void resume() { setPaused(false); }

Q_SIGNALS:
    //! The job finished (or was cancelled): status left Running.
    void statusChanged(QtOffload::QtJob::Status status);
    //! The paused property changed.
    void pausedChanged(bool paused);
    //! A progress property changed.
    void progressChanged();
    //! The job is over: result or errorString and status are set. Emitted once.
    void finished();

private:
    using ResultReader = std::function<QVariant()>;
    QtJob(const QFuture<void> &future, ResultReader readResult, QObject *parent);
    void refreshProgress();
    void refreshPaused();
    void end();

    Q_DECLARE_PRIVATE(QtJob)
    std::unique_ptr<QtJobPrivate> d_ptr;
};

template<typename T> QtJob *QtJob::watch(const QFuture<T> &future, QObject *parent)
{
    static_assert(std::is_void_v<T> || std::is_copy_constructible_v<T>,
                  "QtOffload::QtJob: the result is handed out as a QVariant, which needs a copyable type");
    ResultReader read = [future]() -> QVariant {
        if constexpr (std::is_void_v<T>)
            return {};
        else
            return QVariant::fromValue(future.result());
    };
    return new QtJob(QFuture<void>(future), std::move(read), parent);
}

} // namespace QtOffload
