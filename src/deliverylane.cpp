// SPDX-License-Identifier: MIT
// The delivery lane: one per receiving thread. A client (a generator, one
// future's result) becomes ready on any thread and schedules itself; the
// first schedule of a batch posts one wake-up to the lane's thread; there, a
// turn hands out one item per client in round robin, reads the clock after
// every item, and once the budget is spent yields to the thread's timers and
// posted events before the next turn.

#include <QtOffload/impl/deliverylane.h>

#include "lifecycle_p.h"
#include "tsan_p.h"

#include <QtCore/QBasicTimer>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEvent>
#include <QtCore/QThread>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace QtOffload::detail {

class LaneWaker;

class DeliveryLane
{
public:
    void schedule(LaneClient *client);
    //! On the lane's thread, inside a turn: \a client runs in the next turn, not in this one.
    void scheduleNextTurn(LaneClient *client);
    void remove(LaneClient *client);
    //! On the lane's thread: one turn.
    void runTurn();
    //! The lane stops waking up; returns its waker, for the caller to delete in the waker's thread.
    LaneWaker *detachWaker();

    std::atomic<qint64> budgetNs { std::chrono::nanoseconds(DefaultDeliveryBudget).count() };
    LaneWaker *waker = nullptr; // guarded by mutex; null once the thread has finished

private:
    // One per running turn; a handler that spins a nested event loop nests
    // turns, and a client destroyed inside any of them must not be touched.
    struct Turn
    {
        LaneClient *client = nullptr;
        bool clientGone = false;
        Turn *outer = nullptr;
    };

    std::mutex m_mutex;
    std::deque<LaneClient *> m_ready;
    std::deque<LaneClient *> m_nextTurn; // waiting for the turn after the running one
    std::atomic<std::size_t> m_readyCount { 0 }; // m_ready.size(), readable without m_mutex
    bool m_wakePending = false;
    Turn *m_turns = nullptr; // the lane's thread only (changed under m_mutex)

public:
    quint64 turnSerial = 0; // the lane's thread only: counts turns, nested ones too
};

namespace {

QEvent::Type wakeEventType()
{
    static const auto type = QEvent::Type(QEvent::registerEventType());
    return type;
}

} // namespace

class LaneWaker final : public QObject
{
public:
    explicit LaneWaker(std::shared_ptr<DeliveryLane> lane)
        : m_lane(std::move(lane))
    {
    }

    /*!
      Why a zero-interval timer and not another posted event: Qt 6.4's glib
      dispatcher (the default on Linux) dispatches its timer source at idle
      priority from the moment timers fired until the next batch of posted
      events has been sent (qeventdispatcher_glib.cpp, runWithIdlePriority),
      so a turn that re-posts itself lets a 1 ms timer through only every
      second turn. A real zero timer is in the dispatcher's timer list: it
      fires after the timers already due and after the posted events that
      came meanwhile, on glib and on the unix dispatcher alike.
      QTimer::singleShot(0, ...) would not do: Qt 6.4 turns it into a queued
      call. bench/bench_lane_yield measures all of these (2 ms turns: the
      longest 1 ms-timer gap is 4.1 ms with posting and 2.1 ms with the
      zero timer on glib; 2.1 ms either way on unix).
    */
    void yieldTurn() { m_yield.start(0, Qt::PreciseTimer, this); }

protected:
    bool event(QEvent *event) override
    {
        QTOFFLOAD_HAPPENS_AFTER(this); // made on another thread, handed over through Qt's posted events
        if (event->type() == wakeEventType()) {
            // A turn that yielded runs from its timer, not ahead of the thread's timers.
            if (!m_yield.isActive())
                m_lane->runTurn();
            return true;
        }
        if (event->type() == QEvent::Timer && static_cast<QTimerEvent *>(event)->timerId() == m_yield.timerId()) {
            m_yield.stop();
            m_lane->runTurn();
            return true;
        }
        return QObject::event(event);
    }

private:
    const std::shared_ptr<DeliveryLane> m_lane;
    QBasicTimer m_yield;
};

void DeliveryLane::schedule(LaneClient *client)
{
    std::lock_guard lock(m_mutex);
    if (client->m_scheduled)
        return;
    client->m_scheduled = true;
    m_ready.push_back(client);
    m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
    if (m_wakePending || !waker)
        return;
    m_wakePending = true;
    // Under m_mutex: the waker detaches under it before it is deleted.
    QCoreApplication::postEvent(waker, new QEvent(wakeEventType()));
}

void DeliveryLane::scheduleNextTurn(LaneClient *client)
{
    std::lock_guard lock(m_mutex);
    if (client->m_scheduled)
        return; // it runs again anyway
    client->m_scheduled = true;
    m_nextTurn.push_back(client);
}

void DeliveryLane::remove(LaneClient *client)
{
    std::lock_guard lock(m_mutex);
    if (client->m_scheduled) {
        if (const auto it = std::find(m_ready.begin(), m_ready.end(), client); it != m_ready.end())
            m_ready.erase(it);
        else
            m_nextTurn.erase(std::find(m_nextTurn.begin(), m_nextTurn.end(), client));
        m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
        client->m_scheduled = false;
    }
    for (Turn *turn = m_turns; turn; turn = turn->outer) {
        if (turn->client == client)
            turn->clientGone = true;
    }
}

void DeliveryLane::runTurn()
{
    QElapsedTimer clock;
    clock.start();
    const qint64 budget = budgetNs.load(std::memory_order_relaxed);
    std::unique_lock lock(m_mutex);
    ++turnSerial;
    Turn turn;
    turn.outer = std::exchange(m_turns, &turn);
    // From here a schedule posts a new wake-up: a handler that runs a nested
    // event loop still gets deliveries in it.
    m_wakePending = false;
    bool budgetSpent = false;
    while (!m_ready.empty() && !budgetSpent) {
        LaneClient *client = m_ready.front();
        m_ready.pop_front();
        m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
        client->m_scheduled = false;
        turn.client = client;
        turn.clientGone = false;
        lock.unlock();
        bool more = false;
        do {
            more = client->deliverOne();
            // clientGone is set on this thread (a client is destroyed in its lane's thread).
            budgetSpent = clock.nsecsElapsed() >= budget;
            // While nobody else is ready the same client goes on without the lock.
        } while (more && !turn.clientGone && !budgetSpent && m_readyCount.load(std::memory_order_relaxed) == 0);
        lock.lock();
        if (more && !turn.clientGone && !client->m_scheduled) {
            client->m_scheduled = true;
            m_ready.push_back(client);
            m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
        }
        turn.client = nullptr;
    }
    const bool nextTurnWanted = !m_nextTurn.empty();
    m_ready.insert(m_ready.end(), m_nextTurn.begin(), m_nextTurn.end());
    m_nextTurn.clear();
    m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
    if ((budgetSpent || nextTurnWanted) && !m_ready.empty() && waker) {
        m_wakePending = true; // the timer is the wake-up now
        waker->yieldTurn();
    }
    m_turns = turn.outer;
}

LaneWaker *DeliveryLane::detachWaker()
{
    std::lock_guard lock(m_mutex);
    return std::exchange(waker, nullptr);
}

namespace {

class LaneRegistry
{
public:
    std::mutex mutex;
    std::unordered_map<QThread *, std::shared_ptr<DeliveryLane>> lanes;
};

LaneRegistry &registry()
{
    // Never destroyed: lanes are used from static destructors (the default pool's).
    static LaneRegistry *const instance = new LaneRegistry;
    return *instance;
}

} // namespace

std::shared_ptr<DeliveryLane> laneFor(QThread *thread)
{
    ensureApplicationHooks(); // the main thread's lane retires with the application
    std::lock_guard lock(registry().mutex);
    std::shared_ptr<DeliveryLane> &lane = registry().lanes[thread];
    if (lane)
        return lane;
    lane = std::make_shared<DeliveryLane>();
    if (thread->isFinished())
        return lane; // nothing will be delivered there again, as with posted events
    auto *waker = new LaneWaker(lane);
    waker->moveToThread(thread);
    QTOFFLOAD_HAPPENS_BEFORE(waker);
    // The waker is deleted in its own thread as the thread finishes
    // (QThread::finished is emitted there), or with a QThread that never ran.
    const auto retire = [thread] { retireLane(thread); };
    QObject::connect(thread, &QThread::finished, waker, retire, Qt::DirectConnection);
    QObject::connect(thread, &QObject::destroyed, waker, retire, Qt::DirectConnection);
    lane->waker = waker; // not yet shared: no other thread sees this lane
    return lane;
}

void retireLane(QThread *thread)
{
    std::lock_guard lock(registry().mutex);
    const auto found = registry().lanes.find(thread);
    if (found == registry().lanes.end())
        return;
    const std::shared_ptr<DeliveryLane> lane = found->second;
    registry().lanes.erase(found);
    delete lane->detachWaker(); // in its own thread, or with a QThread that never ran
}

LaneClient::LaneClient(QThread *thread)
    : m_lane(laneFor(thread))
{
}

LaneClient::~LaneClient() { m_lane->remove(this); }

void LaneClient::scheduleDelivery() { m_lane->schedule(this); }

void LaneClient::scheduleNextTurn() { m_lane->scheduleNextTurn(this); }

quint64 LaneClient::currentTurn() const { return m_lane->turnSerial; }

} // namespace QtOffload::detail

namespace QtOffload {

void setDeliveryBudget(QThread *thread, std::chrono::microseconds budget)
{
    if (!thread)
        throw std::invalid_argument("QtOffload::setDeliveryBudget: the thread is null");
    if (budget.count() < 0)
        throw std::invalid_argument("QtOffload::setDeliveryBudget: the budget must be >= 0");
    detail::laneFor(thread)->budgetNs.store(std::chrono::nanoseconds(budget).count(), std::memory_order_relaxed);
}

std::chrono::microseconds deliveryBudget(QThread *thread)
{
    if (!thread)
        throw std::invalid_argument("QtOffload::deliveryBudget: the thread is null");
    const qint64 ns = detail::laneFor(thread)->budgetNs.load(std::memory_order_relaxed);
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(ns));
}

} // namespace QtOffload
