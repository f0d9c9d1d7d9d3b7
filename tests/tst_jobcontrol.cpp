// SPDX-License-Identifier: MIT
// JobControl: a job's progress and pause check point, seen through its QFuture,
// a QFutureWatcher and a QtJob.
#include <QtOffload/QtOffload>

#include <support/gate.h>
#include <support/loopthread.h>

#include <QtCore/QFutureWatcher>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <memory>
#include <stdexcept>

using namespace QtOffload;

namespace {
constexpr int deadlineMs = 20000;

//! The values a watcher reported, in order.
struct ProgressLog
{
    explicit ProgressLog(QFutureWatcherBase &watcher)
    {
        QObject::connect(&watcher, &QFutureWatcherBase::progressValueChanged, &watcher,
                         [this](int value) { values.append(value); });
        QObject::connect(&watcher, &QFutureWatcherBase::progressTextChanged, &watcher,
                         [this](const QString &text) { texts.append(text); });
    }
    QList<int> values;
    QStringList texts;
};
} // namespace

class TestJobControl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testProgressReachesAWatcher()
    {
        QFutureWatcher<int> watcher;
        ProgressLog log(watcher);
        QSignalSpy range(&watcher, &QFutureWatcherBase::progressRangeChanged);
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(threaded([](JobControl &control) {
            control.setProgressRange(0, 100);
            for (int i = 1; i <= 100; ++i)
                control.setProgressValueAndText(i, QStringLiteral("step %1").arg(i));
            return 7;
        })());
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(watcher.result(), 7);
        QVERIFY(!range.isEmpty());
        QCOMPARE(range.last().at(0).toInt(), 0);
        QCOMPARE(range.last().at(1).toInt(), 100);
        QVERIFY(!log.values.isEmpty());
        QCOMPARE(log.values.last(), 100);
        QCOMPARE(log.texts.last(), QStringLiteral("step 100"));
        QVERIFY(std::is_sorted(log.values.begin(), log.values.end()));
        QCOMPARE(watcher.future().progressValue(), 100);
    }

    void testAThrottledValueStillArrivesWhileTheJobRuns()
    {
        // Value 2 comes right after value 1 reached the watcher, inside Qt's
        // 40 ms throttle window: QPromise's would be dropped and never reach
        // the watcher while the job waits.
        Gate go;
        Gate release;
        QFutureWatcher<void> watcher;
        ProgressLog log(watcher);
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(threaded([&](JobControl &control) {
            control.setProgressRange(0, 10);
            control.setProgressValue(1);
            go.acquire();
            control.setProgressValue(2);
            release.acquire();
        })());
        connect(&watcher, &QFutureWatcherBase::progressValueChanged, this, [&](int value) {
            if (value == 1)
                go.release(); // at once: a QTRY loop's 50 ms steps would outlast the window
        });
        QTRY_VERIFY_WITH_TIMEOUT(log.values.contains(2), deadlineMs);
        QVERIFY(watcher.isRunning());
        release.release();
        QVERIFY(finished.wait(deadlineMs));
    }

    void testManyReportsAreCoalescedAndTheLastArrives()
    {
        constexpr int count = 1'000'000;
        QFutureWatcher<void> watcher;
        ProgressLog log(watcher);
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        QElapsedTimer clock;
        clock.start();
        watcher.setFuture(threaded([](JobControl &control) {
            control.setProgressRange(0, count);
            for (int i = 1; i <= count; ++i)
                control.setProgressValue(i);
        })());
        QVERIFY(finished.wait(deadlineMs * 3));
        QVERIFY(!log.values.isEmpty());
        QCOMPARE(log.values.last(), count);
        // At most one value per 40 ms (Qt's rate), plus the first and the last.
        QVERIFY2(log.values.size() <= clock.elapsed() / 40 + 3, qPrintable(QString::number(log.values.size())));
    }

    void testTheLastValueBelowTheMaximumIsInTheFutureAndTheJob()
    {
        QtJob *job = QtJob::watch(threaded([](JobControl &control) {
                                      control.setProgressRange(0, 100);
                                      for (int i = 1; i <= 37; ++i)
                                          control.setProgressValue(i);
                                      return QStringLiteral("done");
                                  })(),
                                  this);
        int progressAtFinished = -1;
        connect(job, &QtJob::finished, this, [&] { progressAtFinished = job->progressValue(); });
        QSignalSpy finished(job, &QtJob::finished);
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(progressAtFinished, 37);
        QCOMPARE(job->progressMaximum(), 100);
        QCOMPARE(job->progress(), 0.37);
        QCOMPARE(job->status(), QtJob::Status::Succeeded);
        QCOMPARE(job->result().toString(), QStringLiteral("done"));
        delete job;
    }

    void testArgumentsFollowTheControl()
    {
        QFuture<QString> future = threaded([](JobControl &control, int times, QString text) {
            control.setProgressValue(times);
            return text.repeated(times);
        })(3, QStringLiteral("ab"));
        QCOMPARE(future.result(), QStringLiteral("ababab")); // the progress is in before the result
        QCOMPARE(future.progressValue(), 3);
    }

    void testASuspendedJobStopsAndResumes()
    {
        std::atomic<int> steps { 0 };
        QFutureWatcher<void> watcher;
        QSignalSpy suspending(&watcher, &QFutureWatcherBase::suspending);
        QSignalSpy suspended(&watcher, &QFutureWatcherBase::suspended);
        QSignalSpy resumed(&watcher, &QFutureWatcherBase::resumed);
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        // A check point reached with a suspension requested returns only once
        // it is lifted (or the job is stopped): the suspension is requested
        // once and lifted once, so a step that finds it still requested on
        // both sides of the check point was let through.
        std::atomic<int> stepsLetThrough { 0 };
        QFuture<void> future = threaded([&](JobControl &control) {
            while (!control.isStopRequested()) {
                const bool requested = control.isSuspendRequested();
                control.suspendIfRequested();
                if (requested && control.isSuspendRequested() && !control.isStopRequested())
                    stepsLetThrough.fetch_add(1);
                steps.fetch_add(1);
            }
        })();
        watcher.setFuture(future);
        QTRY_VERIFY_WITH_TIMEOUT(steps.load() > 0, deadlineMs);
        future.suspend();
        QVERIFY(suspended.wait(deadlineMs));
        QCOMPARE(suspending.size(), 1);
        QVERIFY(future.isSuspended());
        const int stepsBeforeResume = steps.load();
        future.resume();
        QTRY_VERIFY_WITH_TIMEOUT(!resumed.isEmpty(), deadlineMs);
        QTRY_VERIFY_WITH_TIMEOUT(steps.load() > stepsBeforeResume, deadlineMs);
        future.cancel();
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(stepsLetThrough.load(), 0);
    }

    void testCancelEndsASuspension()
    {
        QFutureWatcher<void> watcher;
        QSignalSpy suspended(&watcher, &QFutureWatcherBase::suspended);
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        std::atomic<bool> returned { false };
        QFuture<void> future = threaded([&](JobControl &control) {
            while (!control.isStopRequested())
                control.suspendIfRequested();
            returned.store(true);
        })();
        watcher.setFuture(future);
        future.suspend();
        QVERIFY(suspended.wait(deadlineMs));
        future.cancel();
        QVERIFY(finished.wait(deadlineMs));
        QVERIFY(returned.load());
    }

    void testDestroyingThePoolEndsASuspension()
    {
        auto pool = std::make_unique<ThreadPool>(1);
        QFutureWatcher<int> watcher;
        QSignalSpy suspended(&watcher, &QFutureWatcherBase::suspended);
        QFuture<int> future = threaded(pool.get(), [](JobControl &control) {
            int steps = 0;
            while (!control.isStopRequested()) {
                control.suspendIfRequested();
                ++steps;
            }
            return steps;
        })();
        watcher.setFuture(future);
        future.suspend();
        QVERIFY(suspended.wait(deadlineMs));
        pool.reset(); // joins its worker: it must not stay held
        QVERIFY(future.isFinished());
        QVERIFY(future.result() >= 0);
    }

    void testAJobSubmittedFromAWorkerReportsWithoutALane()
    {
        // A pool worker runs no event loop: the worker hands its progress over itself.
        QFuture<int> outer = threaded([] {
            QFuture<void> inner = threaded([](JobControl &control) {
                control.setProgressRange(0, 50);
                for (int i = 1; i <= 20; ++i)
                    control.setProgressValue(i);
            })();
            inner.waitForFinished();
            return inner.progressValue();
        })();
        QFutureWatcher<int> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(outer);
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(outer.result(), 20);
    }

    void testAJobThatOutlivesItsSubmittingThreadEndsCleanly()
    {
        // The relay lives on the submitting thread's lane. Whether that thread
        // ends before the job or in the same event as the job's end, the job
        // still ends with its last progress, and the relay is destroyed: it
        // holds the job's future, and the ASan build's LeakSanitizer fails
        // this suite when either is left behind.
        for (const bool threadEndsFirst : { true, false }) {
            Gate open;
            QFuture<int> future;
            // The submission runs inside the thread's own event loop, as the
            // relay needs; nothing is posted to it from here.
            const std::unique_ptr<QThread> submitter = threadRunningInItsLoop([&] {
                future = threaded([&](JobControl &control) {
                    control.setProgressRange(0, 2);
                    control.setProgressValue(1);
                    if (!open.tryAcquire(1, deadlineMs))
                        return 0;
                    control.setProgressValue(2);
                    return 7;
                })();
                if (!threadEndsFirst) {
                    open.release();
                    future.waitForFinished(); // the relay is handed to the lane in the loop's last event
                }
            });
            submitter->start();
            QVERIFY(submitter->wait(deadlineMs));
            if (threadEndsFirst)
                open.release();
            QFutureWatcher<int> watcher;
            QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
            watcher.setFuture(future);
            if (!future.isFinished())
                QVERIFY(finished.wait(deadlineMs));
            QCOMPARE(future.result(), 7);
            QCOMPARE(future.progressValue(), 2);
        }
    }

    void testQtJobReportsFailureAndCancel()
    {
        QtJob *failing = QtJob::watch(threaded([]() -> int { throw std::runtime_error("the job failed"); })(), this);
        QSignalSpy failed(failing, &QtJob::finished);
        QVERIFY(failed.wait(deadlineMs));
        QCOMPARE(failing->status(), QtJob::Status::Failed);
        QVERIFY2(failing->errorString().contains(QStringLiteral("the job failed")), qPrintable(failing->errorString()));
        QVERIFY(!failing->result().isValid());

        Gate started;
        QtJob *blocked = QtJob::watch(threaded([&](JobControl &control) {
                                          started.release();
                                          while (!control.isStopRequested())
                                              control.stopToken().waitFor(std::chrono::milliseconds(1000));
                                      })(),
                                      this);
        QSignalSpy statusChanged(blocked, &QtJob::statusChanged);
        QSignalSpy cancelled(blocked, &QtJob::finished);
        QVERIFY(started.tryAcquire());
        QVERIFY(blocked->isRunning());
        blocked->cancel();
        QVERIFY(cancelled.wait(deadlineMs));
        QCOMPARE(blocked->status(), QtJob::Status::Cancelled);
        QCOMPARE(statusChanged.size(), 1);
        delete failing;
        delete blocked;
    }

    void testQtJobPauses()
    {
        // Shared with the job: a cancelled QtJob finishes at once, while the body may still take a step.
        auto steps = std::make_shared<std::atomic<int>>(0);
        QtJob *job = QtJob::watch(threaded([steps](JobControl &control) {
                                      while (!control.isStopRequested()) {
                                          control.suspendIfRequested();
                                          steps->fetch_add(1);
                                      }
                                  })(),
                                  this);
        QSignalSpy paused(job, &QtJob::pausedChanged);
        QTRY_VERIFY_WITH_TIMEOUT(steps->load() > 0, deadlineMs);
        job->pause();
        QVERIFY(job->isPaused());
        job->resume();
        QVERIFY(!job->isPaused());
        QCOMPARE(paused.size(), 2);
        QSignalSpy finished(job, &QtJob::finished);
        job->cancel();
        QVERIFY(finished.wait(deadlineMs));
        QVERIFY(!job->isPaused());
        delete job;
    }
};

QTEST_GUILESS_MAIN(TestJobControl)
#include "tst_jobcontrol.moc"
