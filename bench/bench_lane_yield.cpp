// SPDX-License-Identifier: MIT
// Groundwork for the delivery lane: which way of scheduling "the next turn"
// lets the receiving thread's timers and posted events through between turns,
// on Qt 6.4's glib dispatcher (the default on Linux) and on the plain unix one
// (QT_NO_GLIB=1)?
//
// Each turn works for 2 ms, as a delivery turn that used its whole budget, and
// schedules the next turn; meanwhile a 1 ms precise timer measures its gaps on
// the same thread, and another thread posts an event every millisecond whose
// latency is measured. A mechanism is good when the timer gap and the posted
// event's latency stay near one turn.
//
// Usage: bench_lane_yield            both dispatchers, every mechanism, each in a process of its own
//        bench_lane_yield MECHANISM  one, in this process

#include <QtCore/QBasicTimer>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEvent>
#include <QtCore/QProcess>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>

namespace {

constexpr int turns = 300;
constexpr qint64 turnNs = 2'000'000;

// "zero-timer" is QTimer::singleShot(0, ...), which Qt 6.4 turns into a queued call
// (qtimer.cpp, singleShotImpl), i.e. a posted event; "basic-zero-timer" is a real
// zero-interval timer (QBasicTimer), which goes through the dispatcher's timer list.
const QStringList mechanisms { QStringLiteral("post"),
                               QStringLiteral("post-low-priority"),
                               QStringLiteral("zero-timer"),
                               QStringLiteral("basic-zero-timer"),
                               QStringLiteral("zero-coarse-timer"),
                               QStringLiteral("one-ms-timer") };

class Probe final : public QObject
{
public:
    explicit Probe(QElapsedTimer &clock)
        : m_clock(clock)
    {
    }
    bool event(QEvent *e) override
    {
        if (e->type() == nextTurnType()) {
            nextTurn();
            return true;
        }
        if (e->type() == QEvent::Timer && static_cast<QTimerEvent *>(e)->timerId() == yield.timerId()) {
            yield.stop();
            nextTurn();
            return true;
        }
        if (e->type() != type())
            return QObject::event(e);
        const qint64 sent = static_cast<Sent *>(e)->at;
        worstLatency = std::max(worstLatency, m_clock.nsecsElapsed() - sent);
        return true;
    }
    struct Sent final : QEvent
    {
        explicit Sent(qint64 when)
            : QEvent(Probe::type())
            , at(when)
        {
        }
        qint64 at;
    };
    static QEvent::Type type()
    {
        static const auto registered = QEvent::Type(QEvent::registerEventType());
        return registered;
    }
    static QEvent::Type nextTurnType()
    {
        static const auto registered = QEvent::Type(QEvent::registerEventType());
        return registered;
    }
    qint64 worstLatency = 0;
    std::function<void()> nextTurn;
    QBasicTimer yield;

private:
    QElapsedTimer &m_clock;
};

int runOne(const QString &mechanism)
{
    QElapsedTimer clock;
    clock.start();
    Probe probe(clock);
    qint64 lastTick = clock.nsecsElapsed();
    qint64 worstGap = 0;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        worstGap = std::max(worstGap, now - lastTick);
        lastTick = now;
    });
    ticker.start(1);

    std::atomic<bool> done { false };
    QThread *poster = QThread::create([&] {
        while (!done.load()) {
            QCoreApplication::postEvent(&probe, new Probe::Sent(clock.nsecsElapsed()));
            QThread::usleep(1000);
        }
    });
    poster->start();

    int left = turns;
    const qint64 start = clock.nsecsElapsed();
    std::function<void()> turn = [&] {
        const qint64 until = clock.nsecsElapsed() + turnNs;
        while (clock.nsecsElapsed() < until) { }
        if (--left == 0) {
            QCoreApplication::quit();
            return;
        }
        if (mechanism == QStringLiteral("post"))
            QMetaObject::invokeMethod(&probe, turn, Qt::QueuedConnection);
        else if (mechanism == QStringLiteral("post-low-priority"))
            QCoreApplication::postEvent(&probe, new QEvent(Probe::nextTurnType()), Qt::LowEventPriority);
        else if (mechanism == QStringLiteral("basic-zero-timer"))
            probe.yield.start(0, Qt::PreciseTimer, &probe);
        else if (mechanism == QStringLiteral("zero-timer"))
            QTimer::singleShot(0, Qt::PreciseTimer, &probe, turn);
        else if (mechanism == QStringLiteral("zero-coarse-timer"))
            QTimer::singleShot(0, Qt::CoarseTimer, &probe, turn);
        else
            QTimer::singleShot(1, Qt::PreciseTimer, &probe, turn);
    };
    probe.nextTurn = turn;
    QTimer::singleShot(0, &probe, turn);
    QCoreApplication::exec();
    const double turnsPerSecond = turns / (double(clock.nsecsElapsed() - start) / 1e9);
    done = true;
    poster->wait();
    delete poster;
    QCoreApplication::sendPostedEvents();
    std::printf("%.2f %.2f %.0f\n", double(worstGap) / 1e6, double(probe.worstLatency) / 1e6, turnsPerSecond);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc > 1)
        return runOne(QString::fromLatin1(argv[1]));
    std::printf("Each turn works 2 ms, then schedules the next; worst over %d turns\n\n", turns);
    std::printf("| dispatcher | next turn by | longest 1 ms timer gap | longest posted-event latency | turns/s |\n"
                "|---|---|---|---|---|\n");
    for (const bool glib : { true, false }) {
        for (const QString &mechanism : mechanisms) {
            QProcess child;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            if (!glib)
                environment.insert(QStringLiteral("QT_NO_GLIB"), QStringLiteral("1"));
            child.setProcessEnvironment(environment);
            child.start(QCoreApplication::applicationFilePath(), { mechanism });
            if (!child.waitForFinished(120'000) || child.exitCode() != 0)
                qFatal("bench_lane_yield: %s failed", qPrintable(mechanism));
            const QList<QByteArray> f = child.readAllStandardOutput().simplified().split(' ');
            std::printf("| %s | %s | %s ms | %s ms | %s |\n", glib ? "glib" : "unix (QT_NO_GLIB=1)",
                        qPrintable(mechanism), f.value(0).constData(), f.value(1).constData(), f.value(2).constData());
        }
    }
    return 0;
}
