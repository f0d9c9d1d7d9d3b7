// SPDX-License-Identifier: MIT
// A thousand generators open at once on a 4-thread pool: random buffer
// sizes, consumers of all three kinds closing at random points, producers
// throwing at random points. Every chunk must arrive in order, every close()
// must finish, every producer must return; a watchdog turns a hang into a
// report of what is still pending.

#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>
#include <QtOffload/typedgenerator.h>

#include <support/peakrss.h>
#include <support/sanitizers.h>
#include <support/seed.h>
#include <support/watchdog.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <atomic>
#include <functional>
#include <limits>
#include <random>

using namespace std::chrono_literals;
using QtOffload::ThreadPool;

namespace {

constexpr int generatorCount = sanitizerScaled(1000, 200);
constexpr int maxLength = 2000;
constexpr std::chrono::milliseconds scenarioDeadline = 120s;
constexpr int never = std::numeric_limits<int>::max();

std::atomic<int> s_producersEntered { 0 };
std::atomic<int> s_producersExited { 0 };

enum class Style { Pull, TypedHandler, ChunkReady };
enum class Ending { Complete, Thrown, Closed };

struct Plan
{
    int id = 0;
    Style style = Style::Pull;
    qsizetype maxSize = 0;
    int length = 0;
    int throwAt = never; // the producer throws instead of yielding chunk #throwAt
    int closeAt = never; // the consumer closes after receiving this many chunks

    int expectedCount() const { return std::min({ length, throwAt, closeAt }); }
    Ending expectedEnding() const
    {
        if (closeAt <= std::min(length, throwAt))
            return Ending::Closed;
        return throwAt < length ? Ending::Thrown : Ending::Complete;
    }
    QString faultMessage() const { return QStringLiteral("producer %1 failed at %2").arg(id).arg(throwAt); }
};

quint64 chunkValue(int id, int index) { return (quint64(id) << 32) | quint32(index); }

//! Written by the producer's worker, read by the test: atomics.
struct ProducerFlags
{
    std::atomic<bool> entered { false };
    std::atomic<bool> exited { false };
    std::atomic<int> yielded { 0 };
};

struct ProducerScope
{
    explicit ProducerScope(ProducerFlags &f)
        : flags(f)
    {
        flags.entered = true;
        s_producersEntered.fetch_add(1);
    }
    ~ProducerScope()
    {
        flags.exited = true;
        s_producersExited.fetch_add(1);
    }
    ProducerFlags &flags;
};

void produce(QtOffload::Sink<quint64> &out, Plan plan, std::shared_ptr<ProducerFlags> flags)
{
    ProducerScope scope(*flags);
    for (int i = 0; i < plan.length; ++i) {
        if (i == plan.throwAt)
            throw std::runtime_error(plan.faultMessage().toStdString());
        if (!out.yield(chunkValue(plan.id, i)))
            return;
        flags->yielded.fetch_add(1, std::memory_order_relaxed);
    }
}

//! Everything the consumer side saw of one generator. Lives on the main thread.
struct Consumer
{
    Plan plan;
    std::shared_ptr<ProducerFlags> flags = std::make_shared<ProducerFlags>();
    std::unique_ptr<QtOffload::TypedGenerator<quint64>> generator;
    std::function<void()> onDone;
    int received = 0;
    int firstOutOfOrder = -1;
    int afterClose = 0;
    int finishedSignals = 0;
    int errorSignals = 0;
    QString errorMessage;
    QString rethrown;
    QString problem;
    bool closeCalled = false;
    bool closeFinished = false;
    bool pullDone = false;
    bool done = false;

    void accept(quint64 value)
    {
        if (closeCalled)
            ++afterClose;
        if (value != chunkValue(plan.id, received) && firstOutOfOrder < 0)
            firstOutOfOrder = received;
        ++received;
        if (received == plan.closeAt)
            requestClose();
    }

    void requestClose()
    {
        if (closeCalled)
            return;
        closeCalled = true;
        awaitClose(generator->close());
    }

    QCoro::Task<> awaitClose(QFuture<void> future)
    {
        co_await future;
        closeFinished = true;
        checkDone();
    }

    void checkDone()
    {
        // finished() is checked afterwards with its own deadline, so a missing one is named, not hung on.
        const bool consumerEnded = plan.style == Style::Pull ? pullDone : (finishedSignals > 0);
        if (done || !consumerEnded || (closeCalled && !closeFinished))
            return;
        done = true;
        onDone();
    }

    QString state() const
    {
        return QStringLiteral("gen %1 [style %2, maxSize %3, length %4, throwAt %5, closeAt %6]: received %7, "
                              "finished %8, errors %9, close called %10 finished %11, pull done %12, "
                              "producer entered %13 exited %14 yielded %15, running %16, buffered %17")
            .arg(plan.id)
            .arg(int(plan.style))
            .arg(plan.maxSize)
            .arg(plan.length)
            .arg(plan.throwAt == never ? -1 : plan.throwAt)
            .arg(plan.closeAt == never ? -1 : plan.closeAt)
            .arg(received)
            .arg(finishedSignals)
            .arg(errorSignals)
            .arg(closeCalled)
            .arg(closeFinished)
            .arg(pullDone)
            .arg(flags->entered.load())
            .arg(flags->exited.load())
            .arg(flags->yielded.load())
            .arg(generator ? generator->isRunning() : false)
            .arg(generator ? generator->buffered() : -1);
    }
};

QCoro::Task<> pull(Consumer *consumer)
{
    auto *generator = consumer->generator.get();
    try {
        while (auto chunk = co_await generator->next()) {
            consumer->accept(*chunk);
            if (consumer->closeCalled)
                break;
        }
        if (!consumer->closeCalled) {
            // Past the end, next() keeps answering "nothing more".
            if (auto again = co_await generator->next())
                consumer->problem = QStringLiteral("next() gave a chunk after the end");
        }
    } catch (const std::exception &e) {
        consumer->rethrown = QString::fromUtf8(e.what());
    }
    consumer->pullDone = true;
    consumer->checkDone();
}

Plan randomPlan(int id, std::mt19937_64 &rng)
{
    Plan plan;
    plan.id = id;
    plan.style = Style(rng() % 3);
    plan.maxSize = qsizetype(rng() % 65);
    plan.length = int(rng() % (maxLength + 1));
    if (rng() % 4 == 0 && plan.length > 0)
        plan.throwAt = int(rng() % plan.length);
    if (rng() % 10 < 3)
        plan.closeAt = int(rng() % (plan.length + 1));
    return plan;
}

} // namespace

class StressGeneratorsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testManyGeneratorsDeliverInOrderAndAllProducersReturn()
    {
        QElapsedTimer wall;
        wall.start();
        const quint64 seed = stressSeed();
        std::mt19937_64 rng(seed);
        const HardWatchdog hardWatchdog(scenarioDeadline + 60s, "the generator scenario blocked the main thread");
        ThreadPool pool(4, QStringLiteral("generators"));
        const QtOffload::Executor executor(&pool);

        int remaining = generatorCount;
        QEventLoop loop;
        std::vector<std::unique_ptr<Consumer>> consumers;
        QObject receiver; // the typed handlers' context
        for (int id = 0; id < generatorCount; ++id) {
            auto consumer = std::make_unique<Consumer>();
            Consumer *c = consumer.get();
            c->plan = randomPlan(id, rng);
            c->onDone = [&remaining, &loop] {
                if (--remaining == 0)
                    loop.quit();
            };
            c->generator = QtOffload::threadedIterable(executor, produce, c->plan.maxSize)(c->plan, c->flags);
            QtOffload::QtGenerator *generator = c->generator.get();
            connect(generator, &QtOffload::QtGenerator::finished, &receiver, [c] {
                ++c->finishedSignals;
                c->checkDone();
            });
            connect(generator, &QtOffload::QtGenerator::errorOccurred, &receiver, [c](const QString &message) {
                ++c->errorSignals;
                c->errorMessage = message;
            });
            if (c->plan.closeAt == 0)
                c->requestClose();
            switch (c->plan.style) {
            case Style::Pull:
                if (c->plan.closeAt != 0)
                    pull(c);
                else
                    c->pullDone = true;
                break;
            case Style::TypedHandler:
                c->generator->onChunk(&receiver, [c](const quint64 &value) { c->accept(value); });
                break;
            case Style::ChunkReady:
                connect(generator, &QtOffload::QtGenerator::chunkReady, &receiver,
                        [c](const QVariant &value) { c->accept(value.value<quint64>()); });
                break;
            }
            consumers.push_back(std::move(consumer));
        }

        QTimer::singleShot(scenarioDeadline, &loop, &QEventLoop::quit);
        if (remaining > 0)
            loop.exec();
        if (remaining > 0) {
            QStringList pending;
            for (const auto &c : consumers) {
                if (!c->done)
                    pending << c->state();
            }
            const auto stats = pool.statistics();
            QFAIL(qPrintable(QStringLiteral("watchdog: %1 of %2 generators not done after %3 s; pool: %4 threads, "
                                            "%5 queued, %6 running; producers entered %7 exited %8; pending:\n%9")
                                 .arg(remaining)
                                 .arg(generatorCount)
                                 .arg(scenarioDeadline.count() / 1000)
                                 .arg(stats.threads)
                                 .arg(stats.queued)
                                 .arg(stats.running)
                                 .arg(s_producersEntered.load())
                                 .arg(s_producersExited.load())
                                 .arg(pending.mid(0, 40).join(QLatin1Char('\n')))));
        }

        // finished() follows close() too (QtGenerator::close's contract), whatever the consumer style;
        // the scenario above does not wait for it, so a missing one is named instead of hung on.
        const auto allFinished = [&consumers] {
            return std::all_of(consumers.begin(), consumers.end(),
                               [](const auto &c) { return c->finishedSignals > 0; });
        };
        // A missing finished() is reported with the other problems below.
        if (!QTest::qWaitFor(allFinished, 5000))
            qWarning("some generators never emitted finished()");

        qint64 chunks = 0;
        int thrown = 0;
        int closed = 0;
        int neverStarted = 0;
        QStringList problems;
        for (const auto &c : consumers) {
            const Plan &plan = c->plan;
            chunks += c->received;
            QStringList wrong;
            if (c->received != plan.expectedCount())
                wrong << QStringLiteral("received %1 chunks, expected %2").arg(c->received).arg(plan.expectedCount());
            if (c->firstOutOfOrder >= 0)
                wrong << QStringLiteral("chunk #%1 out of order").arg(c->firstOutOfOrder);
            if (c->afterClose > 0)
                wrong << QStringLiteral("%1 chunks after close()").arg(c->afterClose);
            if (c->finishedSignals != 1)
                wrong << QStringLiteral("finished() emitted %1 times").arg(c->finishedSignals);
            if (!c->problem.isEmpty())
                wrong << c->problem;
            if (c->flags->entered && !c->flags->exited)
                wrong << QStringLiteral("the producer never returned");
            if (c->generator->isRunning() || !c->generator->isDone())
                wrong << QStringLiteral("still running, or not done");
            switch (plan.expectedEnding()) {
            case Ending::Complete:
                if (c->errorSignals != 0 || c->closeCalled || !c->rethrown.isEmpty())
                    wrong << QStringLiteral("an error or close on a complete stream");
                break;
            case Ending::Thrown:
                ++thrown;
                if (c->errorSignals != 1 || c->errorMessage != plan.faultMessage())
                    wrong
                        << QStringLiteral("errorOccurred %1 times (\"%2\")").arg(c->errorSignals).arg(c->errorMessage);
                if (plan.style == Style::Pull && c->rethrown != plan.faultMessage())
                    wrong << QStringLiteral("next() rethrew \"%1\"").arg(c->rethrown);
                break;
            case Ending::Closed:
                ++closed;
                if (!c->closeFinished || c->errorSignals != 0)
                    wrong << QStringLiteral("close() future unfinished, or an error after close");
                if (plan.closeAt == 0 && c->flags->entered) // closed before it started: must never run
                    wrong << QStringLiteral("the producer ran although closed before starting");
                break;
            }
            if (!c->flags->entered)
                ++neverStarted;
            if (!wrong.isEmpty())
                problems << c->state() + QStringLiteral(": ") + wrong.join(QStringLiteral("; "));
        }
        const auto stats = pool.statistics();
        qInfo("STRESS SUMMARY: tst_stress_generators: %d generators, %lld chunks delivered, %d producers thrown, "
              "%d closed early (%d never started), %d producers entered = %d exited, %lld overflow threads, "
              "wall %.1f s, peak RSS %lld MiB, seed %llu",
              generatorCount, chunks, thrown, closed, neverStarted, s_producersEntered.load(), s_producersExited.load(),
              stats.overflowThreads, double(wall.elapsed()) / 1000.0, peakRssKiB() / 1024, seed);
        QVERIFY2(problems.isEmpty(),
                 qPrintable(QString::number(problems.size()) + QStringLiteral(" generators wrong:\n")
                            + problems.mid(0, 30).join(QLatin1Char('\n'))));
        QCOMPARE(s_producersExited.load(), s_producersEntered.load());
        QVERIFY(thrown > 0);
        QVERIFY(closed > 0);

        consumers.clear();
        QVERIFY(pool.waitForDone(30s));
        const auto after = pool.statistics();
        QCOMPARE(after.submitted, after.succeeded + after.failed + after.cancelled);
        QCOMPARE(after.queued, 0);
        QCOMPARE(after.running, 0);
    }
};

QTEST_GUILESS_MAIN(StressGeneratorsTest)
#include "tst_stress_generators.moc"
