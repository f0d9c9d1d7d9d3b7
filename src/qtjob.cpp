// SPDX-License-Identifier: MIT
#include <QtOffload/impl/completion.h>
#include <QtOffload/impl/futurewatch.h>
#include <QtOffload/qtjob.h>

#include <QtCore/QFutureWatcher>

#include "errors_p.h"
#include "progressfraction_p.h"

namespace QtOffload {

class QtJobPrivate
{
public:
    QFuture<void> future;
    QtJob::ResultReader readResult;
    QFutureWatcher<void> progressWatcher; // progress and suspension, as Qt passes them on
    QtJob::Status status = QtJob::Status::Running;
    bool paused = false;
    int minimum = 0;
    int maximum = 0;
    int value = 0;
    QString text;
    QVariant result;
    QString errorString;
};

QtJob::QtJob(const QFuture<void> &future, ResultReader readResult, QObject *parent)
    : QObject(parent)
    , d_ptr(std::make_unique<QtJobPrivate>())
{
    Q_D(QtJob);
    d->future = future;
    d->readResult = std::move(readResult);
    // The watcher's signals say that something changed; the values are read
    // from the future, which is always at least as new as any signal.
    connect(&d->progressWatcher, &QFutureWatcherBase::progressRangeChanged, this, &QtJob::refreshProgress);
    connect(&d->progressWatcher, &QFutureWatcherBase::progressValueChanged, this, &QtJob::refreshProgress);
    connect(&d->progressWatcher, &QFutureWatcherBase::progressTextChanged, this, &QtJob::refreshProgress);
    connect(&d->progressWatcher, &QFutureWatcherBase::suspending, this, &QtJob::refreshPaused);
    connect(&d->progressWatcher, &QFutureWatcherBase::suspended, this, &QtJob::refreshPaused);
    connect(&d->progressWatcher, &QFutureWatcherBase::resumed, this, &QtJob::refreshPaused);
    d->progressWatcher.setFuture(future);
    detail::watchFuture(future, this, true, [this](detail::FutureEnd) { end(); });
}

QtJob::~QtJob() = default;

QtJob::Status QtJob::status() const noexcept { return d_func()->status; }

bool QtJob::isPaused() const { return d_func()->paused; }

void QtJob::setPaused(bool paused)
{
    Q_D(QtJob);
    if (d->status != Status::Running || paused == d->paused)
        return;
    d->future.setSuspended(paused);
    refreshPaused();
}

int QtJob::progressMinimum() const noexcept { return d_func()->minimum; }
int QtJob::progressMaximum() const noexcept { return d_func()->maximum; }
int QtJob::progressValue() const noexcept { return d_func()->value; }
QString QtJob::progressText() const { return d_func()->text; }

qreal QtJob::progress() const noexcept
{
    Q_D(const QtJob);
    return detail::progressFraction(d->minimum, d->maximum, d->value);
}

QVariant QtJob::result() const { return d_func()->result; }

QString QtJob::errorString() const { return d_func()->errorString; }

void QtJob::cancel() { d_func()->future.cancel(); }

void QtJob::refreshProgress()
{
    Q_D(QtJob);
    const int minimum = d->future.progressMinimum();
    const int maximum = d->future.progressMaximum();
    const int value = d->future.progressValue();
    const QString text = d->future.progressText();
    if (minimum == d->minimum && maximum == d->maximum && value == d->value && text == d->text)
        return;
    d->minimum = minimum;
    d->maximum = maximum;
    d->value = value;
    d->text = text;
    Q_EMIT progressChanged();
}

void QtJob::refreshPaused()
{
    Q_D(QtJob);
    const bool paused = d->status == Status::Running && (d->future.isSuspending() || d->future.isSuspended());
    if (paused == d->paused)
        return;
    d->paused = paused;
    Q_EMIT pausedChanged(paused);
}

void QtJob::end()
{
    Q_D(QtJob);
    d->progressWatcher.disconnect(this);
    refreshProgress(); // the last value, whether or not Qt passed it on to the watcher
    Status status = Status::Succeeded;
    if (detail::isCancellation(d->future)) {
        status = Status::Cancelled;
    } else {
        try {
            d->future.waitForFinished(); // finished: rethrows what the job threw
            d->result = d->readResult();
        } catch (...) {
            status = Status::Failed;
            d->errorString = QString::fromStdString(detail::describeException(std::current_exception()));
        }
    }
    d->status = status;
    refreshPaused();
    Q_EMIT statusChanged(status);
    Q_EMIT finished();
}

} // namespace QtOffload
