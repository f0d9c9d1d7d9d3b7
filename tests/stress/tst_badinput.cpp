// SPDX-License-Identifier: MIT
// Every misuse from SPEC.md section 3, one table row each, with the error it
// must produce: a clear exception or a defined answer, never a hang or a crash.

#include <QtOffload/contextvar.h>
#include <QtOffload/invokeblocking.h>
#include <QtOffload/threaded.h>
#include <QtOffload/threadpool.h>
#include <QtOffload/typedgenerator.h>

#include <support/gate.h>
#include <support/peakrss.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <QCoro/QCoroFuture>
#include <QCoro/QCoroTask>

#include <atomic>
#include <functional>

using namespace std::chrono_literals;
using QtOffload::Sink;
using QtOffload::ThreadPool;
using QtOffload::TypedGenerator;

//! A misuse; returns what happened, in the words of the "expected" column.
using Misuse = std::function<QString()>;
Q_DECLARE_METATYPE(Misuse)

namespace {

constexpr int waitMs = 10000;
const char childVariable[] = "QTOFFLOAD_BADINPUT_CHILD";

struct NotAnException
{
    int code;
};

QString caught(const std::function<void()> &f)
{
    const auto withMessage = [](const char *type, const std::exception &e) -> QString {
        return QLatin1String(type) + (*e.what() ? QString() : QStringLiteral(" without a message"));
    };
    try {
        f();
        return QStringLiteral("no exception");
    } catch (const QtOffload::ShutdownError &e) {
        return withMessage("QtOffload::ShutdownError", e);
    } catch (const QtOffload::LookupError &e) {
        return withMessage("QtOffload::LookupError", e);
    } catch (const QtOffload::TimeoutError &e) {
        return withMessage("QtOffload::TimeoutError", e);
    } catch (const QtOffload::CancelledError &e) {
        return withMessage("QtOffload::CancelledError", e);
    } catch (const std::invalid_argument &e) {
        return withMessage("std::invalid_argument", e);
    } catch (const std::runtime_error &e) {
        return QStringLiteral("std::runtime_error(%1)").arg(QString::fromUtf8(e.what()));
    } catch (const std::exception &e) {
        return QStringLiteral("std::exception(%1)").arg(QString::fromUtf8(e.what()));
    } catch (int value) {
        return QStringLiteral("int %1").arg(value);
    } catch (const NotAnException &e) {
        return QStringLiteral("NotAnException{%1}").arg(e.code);
    } catch (...) {
        return QStringLiteral("an unknown exception");
    }
}

void endless(Sink<int> &out, std::shared_ptr<Gate> exited)
{
    const auto exit = qScopeGuard([&exited] { exited->release(); });
    for (int i = 0; out.yield(i); ++i) { }
}

QCoro::Task<QString> readToTheEndAndBeyond(TypedGenerator<int> *generator)
{
    QStringList seen;
    while (auto chunk = co_await generator->next())
        seen << QString::number(*chunk);
    const auto again = co_await generator->next();
    const auto andAgain = co_await generator->next();
    co_return QStringLiteral("chunks %1, then %2, %3")
        .arg(seen.join(QLatin1Char(',')), again ? QStringLiteral("a chunk") : QStringLiteral("empty"),
             andAgain ? QStringLiteral("a chunk") : QStringLiteral("empty"));
}

QCoro::Task<QString> readUntilError(TypedGenerator<int> *generator)
{
    QStringList seen;
    QString ending = QStringLiteral("no rethrow");
    try {
        while (auto chunk = co_await generator->next())
            seen << QString::number(*chunk);
    } catch (...) {
        ending = QStringLiteral("rethrew ") + caught([e = std::current_exception()] { std::rethrow_exception(e); });
    }
    const auto after = co_await generator->next();
    co_return QStringLiteral("chunks %1, %2, then %3")
        .arg(seen.join(QLatin1Char(',')), ending, after ? QStringLiteral("a chunk") : QStringLiteral("empty"));
}

template<typename T> QString resultOfFinished(QFuture<T> future)
{
    // Finished first, so a library that never finishes it fails the row instead of hanging it.
    if (!QTest::qWaitFor([&future] { return future.isFinished(); }, waitMs))
        return QStringLiteral("still pending");
    return caught([&future] { (void)future.result(); });
}

// --- the misuses ---

QString nullContext()
{
    return caught([] { QtOffload::invokeBlocking(static_cast<QObject *>(nullptr), [] {}); });
}

QString nullThread()
{
    return caught([] { QtOffload::invokeBlocking(static_cast<QThread *>(nullptr), [] {}); });
}

QString nullPool()
{
    return caught([] { (void)QtOffload::threaded(static_cast<ThreadPool *>(nullptr), [] { return 1; }); });
}

QString nullQThreadPool()
{
    return caught([] { (void)QtOffload::threaded(static_cast<QThreadPool *>(nullptr), [] { return 1; }); });
}

QString negativeMaxSize()
{
    return caught([] { (void)QtOffload::threadedIterable([](Sink<int> &) {}, -1); });
}

QString negativeMaxSizeSeparate()
{
    return caught([] { (void)QtOffload::threadedIterableSeparate([](Sink<int> &) {}, -1); });
}

QString negativeMaxSizeWrapper()
{
    ThreadPool pool(1);
    return caught([&pool] { QtOffload::IteratorWrapper wrapper([](Sink<int> &) {}, &pool, -1); });
}

QString readAfterFinished()
{
    auto generator = QtOffload::threadedIterable(
        [](Sink<int> &out) {
            out.yield(1);
            out.yield(2);
        },
        4)();
    return QCoro::waitFor(readToTheEndAndBeyond(generator.get()));
}

QString closeTwice()
{
    auto exited = std::make_shared<Gate>();
    auto generator = QtOffload::threadedIterable(endless, 2)(exited);
    const auto first = QCoro::waitFor(generator->next()); // the producer runs now
    if (!first)
        return QStringLiteral("no first chunk");
    QFuture<void> once = generator->close();
    QFuture<void> twice = generator->close();
    if (!QTest::qWaitFor([&once] { return once.isFinished(); }, waitMs))
        return QStringLiteral("the first close() never finished");
    QFuture<void> thrice = generator->close(); // after it finished, too
    const bool finished = twice.isFinished() && thrice.isFinished();
    // QFuture has no identity test; a state change made through one copy shows in the others.
    once.cancel();
    const bool same = twice.isCanceled() && thrice.isCanceled();
    return QStringLiteral("%1, %2, producer %3")
        .arg(same ? QStringLiteral("same future") : QStringLiteral("different futures"),
             finished ? QStringLiteral("finished") : QStringLiteral("pending"),
             exited->tryAcquire(1, waitMs) ? QStringLiteral("returned") : QStringLiteral("still running"));
}

QString invokeIntoFinishedThread()
{
    QThread thread;
    thread.start();
    thread.quit();
    thread.wait();
    return caught([&thread] { QtOffload::invokeBlocking(&thread, [] { return 1; }); });
}

QString invokeIntoObjectOfFinishedThread()
{
    QThread thread;
    QObject context;
    context.moveToThread(&thread);
    thread.start();
    thread.quit();
    thread.wait();
    return caught([&context] { QtOffload::invokeBlocking(&context, [] { return 1; }); });
}

QString invokeIntoBusyThreadWithTimeout()
{
    // A thread that never returns to an event loop while the call waits.
    Gate busy;
    std::unique_ptr<QThread> thread(QThread::create([&busy] { (void)busy.tryAcquire(1, waitMs); }));
    QObject context;
    context.moveToThread(thread.get());
    thread->start();
    const QString outcome = caught([&context] {
        QtOffload::invokeBlocking(
            &context, [] { return 1; }, 50ms);
    });
    busy.release();
    thread->wait();
    return outcome;
}

QString producerThrowsPulled()
{
    auto generator = QtOffload::threadedIterable(
        [](Sink<int> &out) {
            out.yield(1);
            throw std::runtime_error("producer fault");
        },
        2)();
    QSignalSpy errors(generator.get(), &QtOffload::QtGenerator::errorOccurred);
    const QString read = QCoro::waitFor(readUntilError(generator.get()));
    return QStringLiteral("errorOccurred(%1); %2").arg(errors.value(0).value(0).toString(), read);
}

QString producerThrowsSignalled()
{
    auto generator = QtOffload::threadedIterable(
        [](Sink<int> &out) {
            out.yield(1);
            throw std::runtime_error("producer fault");
        },
        2)();
    QStringList events;
    QObject::connect(generator.get(), &QtOffload::QtGenerator::chunkReady,
                     [&events](const QVariant &chunk) { events << QStringLiteral("chunk ") + chunk.toString(); });
    QObject::connect(generator.get(), &QtOffload::QtGenerator::errorOccurred, [&events](const QString &message) {
        events << QStringLiteral("errorOccurred(") + message + QLatin1Char(')');
    });
    QObject::connect(generator.get(), &QtOffload::QtGenerator::finished,
                     [&events] { events << QStringLiteral("finished"); });
    if (!QTest::qWaitFor([&events] { return events.contains(QStringLiteral("finished")); }, waitMs))
        events << QStringLiteral("no finished()");
    return events.join(QStringLiteral("; "));
}

QString jobThrowsInt()
{
    return resultOfFinished(QtOffload::threaded([]() -> int { throw 42; })());
}

QString jobThrowsNonStdStruct()
{
    return resultOfFinished(QtOffload::threaded([]() -> QString { throw NotAnException { 7 }; })());
}

QString poolDestroyedWithWorkQueued()
{
    auto pool = std::make_unique<ThreadPool>(1);
    pool->setStarvationTimeout(QtOffload::Forever);
    std::atomic<int> ran { 0 };
    Gate started;
    Gate lastCancelled;
    // Holds the only thread until the destructor has cancelled the queue behind it.
    QFuture<int> holder = QtOffload::threaded(pool.get(), [&] {
        started.release();
        return lastCancelled.tryAcquire(1, waitMs) ? 1 : 0;
    })();
    if (!started.tryAcquire(1, waitMs))
        return QStringLiteral("the first job never started");
    auto job = QtOffload::threaded(pool.get(), [&ran] { return ++ran; });
    QList<QFuture<int>> queued = { job(), job(), job() };
    queued.last().onFailed([&lastCancelled](const QtOffload::CancelledError &) {
        lastCancelled.release();
        return 0;
    });
    pool.reset();
    QStringList outcomes;
    for (const auto &future : queued)
        outcomes << (!future.isFinished()                                   ? QStringLiteral("pending")
                         : future.isCanceled() && future.resultCount() == 0 ? QStringLiteral("cancelled")
                                                                            : QStringLiteral("ran"));
    return outcomes.join(QStringLiteral(", ")) + QStringLiteral("; %1 of them ran").arg(ran.load())
        + (holder.isFinished() && holder.result() == 1 ? QString()
                                                       : QStringLiteral("; the running job was not waited for"));
}

QString submitAfterShutdown()
{
    ThreadPool pool(1);
    (void)pool.shutdown();
    std::atomic<bool> ran { false };
    const QString viaThreaded = caught([&] {
        (void)QtOffload::threaded(&pool, [&ran] {
            ran = true;
            return 1;
        })();
    });
    const QString viaRun = caught([&] { (void)pool.run([&ran] { ran = true; }); });
    return QStringLiteral("%1 / %2%3").arg(viaThreaded, viaRun, ran ? QStringLiteral("; a job ran") : QString());
}

QString contextVarUnset()
{
    QtOffload::ContextVar<int> unset(QStringLiteral("never_set"));
    return caught([&unset] { (void)unset.get(); });
}

QString contextVarForeignToken()
{
    QtOffload::ContextVar<int> one(QStringLiteral("one"));
    QtOffload::ContextVar<int> other(QStringLiteral("other"));
    const auto token = one.set(1);
    const QString outcome = caught([&] { other.reset(token); });
    one.reset(token);
    return outcome;
}

QString applicationQuitsWithGeneratorsOpen()
{
    QProcess child;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QLatin1String(childVariable), QStringLiteral("quit"));
    child.setProcessEnvironment(environment);
    child.start(QCoreApplication::applicationFilePath(), {});
    if (!child.waitForFinished(60000)) {
        child.kill();
        return QStringLiteral("the child hung");
    }
    const QString output = QString::fromLocal8Bit(child.readAllStandardOutput()).trimmed();
    if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0)
        return QStringLiteral("child exit code %1: %2 %3")
            .arg(child.exitCode())
            .arg(output, QString::fromLocal8Bit(child.readAllStandardError()));
    return output;
}

/*!
  The child of applicationQuitsWithGeneratorsOpen: two generators whose
  producers are blocked on full buffers outlive an application that quits
  and is destroyed; the producers must be released and the generators closed.
*/
// No application (and so no event loop) is left to deliver a watcher's signal.
bool finishesWithin(const QFuture<void> &future, int msecs)
{
    const QDeadlineTimer deadline(msecs);
    while (!future.isFinished() && !deadline.hasExpired())
        QThread::yieldCurrentThread();
    return future.isFinished();
}

int quitWithGeneratorsOpenChild(int argc, char **argv)
{
    auto exited = std::make_shared<Gate>();
    std::unique_ptr<TypedGenerator<int>> generators[2];
    {
        QCoreApplication app(argc, argv);
        for (auto &generator : generators) {
            generator = QtOffload::threadedIterable(endless, 1)(exited);
            if (!QCoro::waitFor(generator->next()))
                return 2;
        }
        QTimer::singleShot(0, &app, &QCoreApplication::quit);
        app.exec();
    }
    const bool released = exited->tryAcquire(2, waitMs);
    // The producers signal from inside their bodies, a moment before they return.
    const bool closed
        = finishesWithin(generators[0]->close(), waitMs) && finishesWithin(generators[1]->close(), waitMs);
    std::printf("%s, %s\n", closed ? "closed" : "still open",
                released ? "producers released" : "producers still blocked");
    return 0;
}

} // namespace

class BadInputTest : public QObject
{
    Q_OBJECT

private:
    QElapsedTimer m_wall;
    int m_rows = 0;

private Q_SLOTS:
    void initTestCase() { m_wall.start(); }

    void cleanupTestCase()
    {
        qInfo("STRESS SUMMARY: tst_badinput: %d misuses checked, wall %.1f s, peak RSS %lld MiB", m_rows,
              double(m_wall.elapsed()) / 1000.0, peakRssKiB() / 1024);
    }

    void testMisuseGetsItsError_data()
    {
        QTest::addColumn<Misuse>("misuse");
        QTest::addColumn<QString>("expected");
        const auto row = [](const char *name, Misuse misuse, const char *expected) {
            QTest::newRow(name) << misuse << QString::fromUtf8(expected);
        };
        row("invokeBlocking, null context object", nullContext, "std::invalid_argument");
        row("invokeBlocking, null thread", nullThread, "std::invalid_argument");
        row("threaded, null ThreadPool", nullPool, "std::invalid_argument");
        row("threaded, null QThreadPool", nullQThreadPool, "std::invalid_argument");
        row("threadedIterable, maxSize < 0", negativeMaxSize, "std::invalid_argument");
        row("threadedIterableSeparate, maxSize < 0", negativeMaxSizeSeparate, "std::invalid_argument");
        row("IteratorWrapper, maxSize < 0", negativeMaxSizeWrapper, "std::invalid_argument");
        row("next() after the generator finished", readAfterFinished, "chunks 1,2, then empty, empty");
        row("close() twice", closeTwice, "same future, finished, producer returned");
        row("invokeBlocking into a finished thread", invokeIntoFinishedThread, "QtOffload::ShutdownError");
        row("invokeBlocking to an object of a finished thread", invokeIntoObjectOfFinishedThread,
            "QtOffload::ShutdownError");
        row("invokeBlocking into a busy thread, with a timeout", invokeIntoBusyThreadWithTimeout,
            "QtOffload::TimeoutError");
        row("producer throws, pulled", producerThrowsPulled,
            "errorOccurred(producer fault); chunks 1, rethrew std::runtime_error(producer fault), then empty");
        row("producer throws, signals", producerThrowsSignalled, "chunk 1; errorOccurred(producer fault); finished");
        row("job throws an int", jobThrowsInt, "int 42");
        row("job throws a non-std::exception struct", jobThrowsNonStdStruct, "NotAnException{7}");
        row("pool destroyed with work queued", poolDestroyedWithWorkQueued,
            "cancelled, cancelled, cancelled; 0 of them ran");
        row("submit to a shut-down pool", submitAfterShutdown, "QtOffload::ShutdownError / QtOffload::ShutdownError");
        row("ContextVar::get() unset", contextVarUnset, "QtOffload::LookupError");
        row("ContextVar::reset() with a foreign token", contextVarForeignToken, "std::invalid_argument");
        row("application quits with generators open", applicationQuitsWithGeneratorsOpen, "closed, producers released");
    }

    void testMisuseGetsItsError()
    {
        QFETCH(Misuse, misuse);
        QFETCH(QString, expected);
        ++m_rows;
        QCOMPARE(misuse(), expected);
    }
};

int main(int argc, char **argv)
{
    if (qEnvironmentVariable(childVariable) == QLatin1String("quit"))
        return quitWithGeneratorsOpenChild(argc, argv);
    QCoreApplication app(argc, argv);
    BadInputTest test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_badinput.moc"
