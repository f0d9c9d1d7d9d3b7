// SPDX-License-Identifier: MIT
// A generator's pause and resume, how it ended, its progress, and the list
// model that a ListView binds to.
#include <QtOffload/QtOffload>

#include <support/gate.h>

#include <QtCore/QFutureWatcher>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <stdexcept>

using namespace QtOffload;

namespace {
constexpr int deadlineMs = 20000;

//! A generator of 0..count-1; \a pushed (if given) counts the yields that returned.
auto countTo(int count, std::atomic<int> *pushed = nullptr, qsizetype maxSize = QtOffload::defaultIterableMaxSize())
{
    return threadedIterable(
        [count, pushed](Sink<int> &out) {
            for (int i = 0; i < count; ++i) {
                if (!out.yield(i))
                    return;
                if (pushed)
                    pushed->fetch_add(1);
            }
        },
        maxSize);
}
} // namespace

class TestGeneratorControl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testPauseHoldsTheProducerAndLosesNothing()
    {
        constexpr int count = 300;
        constexpr qsizetype maxSize = 4;
        std::atomic<int> pushed { 0 };
        auto generator = countTo(count, &pushed, maxSize)();
        QList<int> received;
        int deliveredWhilePaused = 0;
        QSignalSpy pausedChanged(generator.get(), &QtGenerator::pausedChanged);
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        generator->onChunk(this, [&](const int &chunk) {
            deliveredWhilePaused += generator->isPaused();
            received.append(chunk);
            if (received.size() == 10)
                generator->pause();
        });
        QTRY_VERIFY_WITH_TIMEOUT(generator->isPaused(), deadlineMs);
        QCOMPARE(pausedChanged.size(), 1);
        // The producer blocks at its next yield: at most a buffer's worth ahead.
        QTRY_VERIFY_WITH_TIMEOUT(pushed.load() >= 10, deadlineMs);
        const qsizetype heldReceived = received.size();
        QCOMPARE(heldReceived, 10);
        QVERIFY2(pushed.load() <= heldReceived + maxSize + 1, qPrintable(QString::number(pushed.load())));
        generator->resume();
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(received.size(), count);
        for (int i = 0; i < count; ++i)
            QCOMPARE(received.at(i), i);
        QCOMPARE(generator->endReason(), QtGenerator::EndReason::Completed);
        QCOMPARE(pausedChanged.size(), 2);
        QCOMPARE(deliveredWhilePaused, 0);
    }

    void testClosingAPausedGeneratorReturns()
    {
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                for (int i = 0; out.yield(i); ++i) { }
            },
            2)();
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        int received = 0;
        generator->onChunk(this, [&](const int &) {
            if (++received == 3)
                generator->pause();
        });
        QTRY_VERIFY_WITH_TIMEOUT(generator->isPaused(), deadlineMs);
        QFuture<void> stopped = generator->close();
        QFutureWatcher<void> watcher;
        QSignalSpy stoppedSpy(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(stopped);
        QVERIFY(stopped.isFinished() || stoppedSpy.wait(deadlineMs));
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), deadlineMs); // may have come while the close was awaited
        QCOMPARE(generator->endReason(), QtGenerator::EndReason::Closed);
    }

    void testPausingBeforeTheStartHoldsTheFirstChunk()
    {
        std::atomic<int> pushed { 0 };
        auto generator = countTo(5, &pushed)();
        generator->pause();
        QList<int> received;
        int deliveredWhilePaused = 0;
        generator->onChunk(this, [&](const int &chunk) {
            deliveredWhilePaused += generator->isPaused();
            received.append(chunk);
        });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        // The producer runs, and the loop turns once more while paused; the
        // handler also counts any chunk delivered while paused, whenever it comes.
        QTRY_VERIFY_WITH_TIMEOUT(generator->isRunning(), deadlineMs);
        QCoreApplication::processEvents();
        QVERIFY(received.isEmpty());
        QVERIFY(pushed.load() <= 1);
        generator->setPaused(false);
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(received, QList<int>({ 0, 1, 2, 3, 4 }));
        QCOMPARE(deliveredWhilePaused, 0);
    }

    void testTheEndReason()
    {
        auto completed = countTo(3)();
        QCOMPARE(completed->endReason(), QtGenerator::EndReason::NotEnded);
        QSignalSpy completedSpy(completed.get(), &QtGenerator::finished);
        completed->onChunk(this, [](const int &) {});
        QVERIFY(completedSpy.wait(deadlineMs));
        QCOMPARE(completed->endReason(), QtGenerator::EndReason::Completed);

        auto closed = countTo(1'000'000)();
        QSignalSpy closedSpy(closed.get(), &QtGenerator::finished);
        closed->onChunk(this, [&closed](const int &chunk) {
            if (chunk == 5)
                closed->close();
        });
        QVERIFY(closedSpy.wait(deadlineMs));
        QCOMPARE(closed->endReason(), QtGenerator::EndReason::Closed);

        auto failed = threadedIterable([](Sink<int> &out) {
            out.yield(1);
            throw std::runtime_error("the producer failed");
        })();
        QSignalSpy failedSpy(failed.get(), &QtGenerator::finished);
        QSignalSpy errorSpy(failed.get(), &QtGenerator::errorOccurred);
        failed->onChunk(this, [](const int &) {});
        QVERIFY(failedSpy.wait(deadlineMs));
        QCOMPARE(errorSpy.size(), 1);
        QCOMPARE(failed->endReason(), QtGenerator::EndReason::Failed);
        QCOMPARE(failed->property("endReason").value<QtGenerator::EndReason>(), QtGenerator::EndReason::Failed);
    }

    void testProgressIsCoalescedAndTheLastComesBeforeFinished()
    {
        constexpr qint64 total = 1'000'000;
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                out.setProgressRange(0, total);
                for (qint64 i = 1; i <= total; ++i) {
                    out.setProgressValue(i);
                    if (i % 100'000 == 0 && !out.yield(int(i / 100'000)))
                        return;
                }
            },
            4)();
        int progressSignals = 0;
        qint64 lastSeen = -1;
        qint64 atFinished = -1;
        connect(generator.get(), &QtGenerator::progressChanged, this, [&] {
            ++progressSignals;
            QVERIFY(generator->progressValue() >= lastSeen);
            lastSeen = generator->progressValue();
        });
        connect(generator.get(), &QtGenerator::finished, this, [&] { atFinished = generator->progressValue(); });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QList<int> chunks;
        generator->onChunk(this, [&](const int &chunk) { chunks.append(chunk); });
        QVERIFY(finished.wait(deadlineMs * 3));
        QCOMPARE(atFinished, total);
        QCOMPARE(generator->progressMaximum(), total);
        QCOMPARE(generator->progress(), 1.0);
        QCOMPARE(chunks.size(), 10);
        QVERIFY(progressSignals >= 1);
        QVERIFY2(progressSignals < 10'000, qPrintable(QString::number(progressSignals)));
    }

    void testTheListModelKeepsTheLastRows()
    {
        auto generator = countTo(100)();
        ChunkListModel model;
        QCOMPARE(model.maximumRows(), ChunkListModel::DefaultMaximumRows);
        model.setMaximumRows(10);
        model.setGenerator(generator.get());
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(deadlineMs));
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(model.count(), 10);
        QCOMPARE(model.index(0).data(ChunkListModel::ChunkRole).toInt(), 90);
        QCOMPARE(model.index(9).data(Qt::DisplayRole).toInt(), 99);
        QCOMPARE(model.roleNames().value(ChunkListModel::ChunkRole), QByteArray("chunk"));

        QSignalSpy countChanged(&model, &ChunkListModel::countChanged);
        model.setMaximumRows(5);
        QCOMPARE(model.count(), 5);
        QCOMPARE(model.index(0).data(ChunkListModel::ChunkRole).toInt(), 95);
        QCOMPARE(countChanged.size(), 1);

        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("maximumRows must be at least 1")));
        model.setMaximumRows(0);
        QCOMPARE(model.maximumRows(), 5);

        model.clear();
        QCOMPARE(model.rowCount(), 0);
        model.setGenerator(nullptr);
        QCOMPARE(model.generator(), nullptr);
    }
};

QTEST_GUILESS_MAIN(TestGeneratorControl)
#include "tst_generatorcontrol.moc"
