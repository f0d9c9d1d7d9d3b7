// SPDX-License-Identifier: MIT
// The delivery lane: one per receiving thread. A client (a generator, one
// future's result) becomes ready on any thread and schedules itself; the
// first schedule of a batch posts one wake-up to the lane's thread; there, a
// turn hands out one item per client in round robin, reads the clock after
// every item, and once the budget is spent yields to the thread's timers and
// posted events before the next turn. A client may also ask for a turn
// after a delay; the lane's one timer wakes it.

#include <QtOffload/deliverylane.h>
#include <QtOffload/impl/deliverylane.h>

#include "appexit_p.h"
#include "deferredwakeups_p.h"
#include "tsan_p.h"

#include <QtCore/QBasicTimer>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEvent>
#include <QtCore/QThread>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace QtOffload::detail {

class LaneWaker;

class DeliveryLane : public std::enable_shared_from_this<DeliveryLane>
{
public:
    DeliveryLane() { m_clock.start(); }

    void schedule(LaneClient *client);
    //! On the lane's thread, inside a turn: \a client runs in the next turn, not in this one.
    void scheduleNextTurn(LaneClient *client);
    //! On the lane's thread: \a client is scheduled once \a delay has passed.
    void scheduleAfter(LaneClient *client, std::chrono::milliseconds delay);
    //! On the lane's thread, from the waker's delay timer: schedules the clients whose delay has passed.
    void scheduleDue();
    void remove(LaneClient *client);
    //! Thread: any. See LaneClient::deleteOnLane().
    void scheduleDeletion(LaneClient *client);
    //! See LaneClient::watchLaneEnd(). False when the lane has retired already.
    bool watchEnd(LaneClient *client, const std::function<void()> &underLock);
    //! On the lane's thread: one turn.
    void runTurn();
    //! See LaneClient::deliverNow().
    bool deliverNow(LaneClient *client);
    //! The lane stops waking up; returns its waker, for the caller to delete in the waker's thread.
    LaneWaker *detachWaker();
    //! Schedules the clients held for \a batch (a DeferredWakeUps) and posts the wake-up it held.
    void releaseHeld(const void *batch);
    //! As the lane retires (no turn runs): destroys the clients handed over for deletion, tells those that watch its
    //! end.
    void retireClients();

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

    //! Returns true when it claimed the wake-up, which the caller must then post with wakeUp().
    [[nodiscard]] bool scheduleLocked(LaneClient *client);
    //! For a thread inside DeferredWakeUps: \a client is scheduled when it ends.
    void holdLocked(LaneClient *client);
    //! The thread's DeferredWakeUps releases this lane as it ends.
    void heldByThisThread();
    //! Posts the claimed wake-up after unlocking \a lock, or leaves it to the thread's DeferredWakeUps.
    void wakeUp(std::unique_lock<std::mutex> &lock);
    void armDelayLocked();
    //! Whether \a turn or one outside it is delivering \a client right now.
    static bool delivering(const Turn *turn, const LaneClient *client);
    //! Takes the clients handed over for deletion that no running turn is delivering.
    std::vector<LaneClient *> takeHandedOverLocked();

    std::mutex m_mutex;
    std::deque<LaneClient *> m_ready;
    std::deque<LaneClient *> m_nextTurn; // waiting for the turn after the running one
    std::vector<LaneClient *> m_toDelete; // handed over by deleteOnLane(), not yet destroyed
    std::vector<LaneClient *> m_endWatchers; // by watchLaneEnd(): told as the lane retires, if still alive
    struct Delayed
    {
        qint64 dueMs;
        LaneClient *client;
    };
    std::vector<Delayed> m_delayed; // by scheduleAfter(), on m_clock
    QElapsedTimer m_clock; // started with the lane
    std::atomic<std::size_t> m_readyCount { 0 }; // m_ready.size(), readable without m_mutex
    bool m_wakePending = false;
    bool m_wakeHeld = false; // claimed inside a DeferredWakeUps, posted by releaseHeld()
    struct Held
    {
        const void *batch;
        LaneClient *client;
    };
    std::vector<Held> m_held; // scheduled inside a DeferredWakeUps, not ready until it ends
    // Wake-ups being posted outside m_mutex: detachWaker() waits for them before its caller deletes the waker.
    std::atomic<int> m_postsInFlight { 0 };
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
    //! The lane's delayed clients are due in \a ms (a new call replaces the old).
    void armDelay(qint64 ms)
    {
        m_delay.start(int(std::clamp<qint64>(ms, 0, std::numeric_limits<int>::max())), Qt::PreciseTimer, this);
    }

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
        if (event->type() == QEvent::Timer && static_cast<QTimerEvent *>(event)->timerId() == m_delay.timerId()) {
            m_delay.stop();
            m_lane->scheduleDue();
            return true;
        }
        return QObject::event(event);
    }

private:
    const std::shared_ptr<DeliveryLane> m_lane;
    QBasicTimer m_yield;
    QBasicTimer m_delay;
};

void DeliveryLane::schedule(LaneClient *client)
{
    std::unique_lock lock(m_mutex);
    if (DeferredWakeUps::currentBatch())
        holdLocked(client);
    else if (scheduleLocked(client))
        wakeUp(lock);
}

void DeliveryLane::holdLocked(LaneClient *client)
{
    // Not ready yet, not even for a turn that runs now: the lane's thread
    // would deliver while this one still holds the locks, or the last
    // reference to what is delivered.
    if (client->m_scheduled)
        return;
    client->m_scheduled = true;
    m_held.push_back({ DeferredWakeUps::currentBatch(), client });
    heldByThisThread();
}

void DeliveryLane::heldByThisThread()
{
    DeferredWakeUps::holdUntilReleased(shared_from_this(), [](void *lane, const void *batch) {
        static_cast<DeliveryLane *>(lane)->releaseHeld(batch);
    });
}

bool DeliveryLane::scheduleLocked(LaneClient *client)
{
    if (client->m_scheduled)
        return false;
    client->m_scheduled = true;
    m_ready.push_back(client);
    m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
    if (m_wakePending || !waker)
        return false;
    m_wakePending = true;
    return true;
}

void DeliveryLane::wakeUp(std::unique_lock<std::mutex> &lock)
{
    if (DeferredWakeUps::currentBatch()) {
        m_wakeHeld = true;
        heldByThisThread();
        return;
    }
    // Posted after unlocking: the wake-up may hand the core to the lane's
    // thread at once (the kernel favours a thread it wakes), and that thread's
    // turn starts by taking m_mutex. Posted under it, a poster preempted there
    // would make the woken thread sleep again until the poster ran once more:
    // three context switches per result instead of one, which made
    // whenFinished() round trips slower than a QFutureWatcher's on a busy
    // machine. The waker stays alive meanwhile: detachWaker() waits.
    LaneWaker *const target = waker;
    m_postsInFlight.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    QCoreApplication::postEvent(target, new QEvent(wakeEventType()));
    m_postsInFlight.fetch_sub(1, std::memory_order_release);
}

void DeliveryLane::releaseHeld(const void *batch)
{
    std::unique_lock lock(m_mutex);
    bool released = false;
    std::erase_if(m_held, [&](const Held &held) {
        if (held.batch != batch)
            return false;
        m_ready.push_back(held.client);
        released = true;
        return true;
    });
    m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
    bool post = std::exchange(m_wakeHeld, false);
    if (released && !m_wakePending && waker) {
        m_wakePending = true;
        post = true;
    }
    if (post && waker) // it retired meanwhile: nothing is delivered there any more
        wakeUp(lock);
}

void DeliveryLane::scheduleNextTurn(LaneClient *client)
{
    std::lock_guard lock(m_mutex);
    if (client->m_scheduled)
        return; // it runs again anyway
    client->m_scheduled = true;
    m_nextTurn.push_back(client);
}

void DeliveryLane::scheduleAfter(LaneClient *client, std::chrono::milliseconds delay)
{
    std::lock_guard lock(m_mutex);
    const qint64 due = m_clock.elapsed() + delay.count();
    const auto it = std::ranges::find(m_delayed, client, &Delayed::client);
    if (it == std::ranges::end(m_delayed))
        m_delayed.push_back({ due, client });
    else if (due < it->dueMs)
        it->dueMs = due;
    else
        return;
    armDelayLocked();
}

void DeliveryLane::scheduleDue()
{
    std::unique_lock lock(m_mutex);
    const qint64 now = m_clock.elapsed();
    const auto due
        = std::ranges::stable_partition(m_delayed, [now](const Delayed &delayed) { return delayed.dueMs > now; });
    bool wakeUpClaimed = false;
    for (const Delayed &delayed : due)
        wakeUpClaimed = scheduleLocked(delayed.client) || wakeUpClaimed;
    m_delayed.resize(m_delayed.size() - due.size()); // the due ones were partitioned to the back
    armDelayLocked();
    if (wakeUpClaimed)
        wakeUp(lock);
}

void DeliveryLane::armDelayLocked()
{
    if (m_delayed.empty() || !waker)
        return;
    const qint64 earliest = std::ranges::min(m_delayed, {}, &Delayed::dueMs).dueMs;
    waker->armDelay(earliest - m_clock.elapsed());
}

void DeliveryLane::remove(LaneClient *client)
{
    std::lock_guard lock(m_mutex);
    if (client->m_scheduled) {
        if (std::erase(m_ready, client) == 0 && std::erase(m_nextTurn, client) == 0)
            std::erase_if(m_held, [client](const Held &held) { return held.client == client; });
        m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
        client->m_scheduled = false;
    }
    std::erase(m_toDelete, client); // it went another way first (it deleted itself in its delivery)
    std::erase(m_endWatchers, client);
    std::erase_if(m_delayed, [client](const Delayed &delayed) { return delayed.client == client; });
    for (Turn *turn = m_turns; turn; turn = turn->outer) {
        if (turn->client == client)
            turn->clientGone = true;
    }
}

void DeliveryLane::scheduleDeletion(LaneClient *client)
{
    {
        std::unique_lock lock(m_mutex);
        if (waker) {
            m_toDelete.push_back(client);
            if (!m_wakePending) {
                m_wakePending = true;
                wakeUp(lock);
            }
            return;
        }
    }
    delete client; // the lane has retired: no turn runs, none will come
}

std::vector<LaneClient *> DeliveryLane::takeHandedOverLocked()
{
    const auto doomed = std::ranges::stable_partition(
        m_toDelete, [this](const LaneClient *client) { return delivering(m_turns, client); });
    std::vector<LaneClient *> taken;
    std::ranges::copy(doomed, std::back_inserter(taken));
    m_toDelete.resize(m_toDelete.size() - taken.size()); // they were partitioned to the back
    return taken;
}

bool DeliveryLane::watchEnd(LaneClient *client, const std::function<void()> &underLock)
{
    std::lock_guard lock(m_mutex);
    if (!waker)
        return false;
    m_endWatchers.push_back(client);
    if (underLock)
        underLock(); // the client cannot finish destroying itself (remove() waits for m_mutex) until this returns
    return true;
}

void DeliveryLane::retireClients()
{
    // One client at a time, taken under the mutex (no turn runs now):
    // destroying or telling one may destroy another, which then takes itself
    // off these lists.
    std::unique_lock lock(m_mutex);
    while (!m_toDelete.empty()) {
        LaneClient *client = m_toDelete.back();
        m_toDelete.pop_back();
        lock.unlock();
        delete client; // takes itself off the lane (and off m_endWatchers), under m_mutex
        lock.lock();
    }
    while (!m_endWatchers.empty()) {
        LaneClient *client = m_endWatchers.back();
        m_endWatchers.pop_back();
        lock.unlock();
        client->laneRetired();
        lock.lock();
    }
}

bool DeliveryLane::delivering(const Turn *turn, const LaneClient *client)
{
    for (; turn; turn = turn->outer) {
        if (turn->client == client && !turn->clientGone) // a gone one's address may be reused
            return true;
    }
    return false;
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
    // After that reset: a client handed over from now on posts a wake-up of its own.
    if (!m_toDelete.empty()) {
        const std::vector<LaneClient *> doomed = takeHandedOverLocked();
        lock.unlock();
        for (LaneClient *client : doomed)
            delete client;
        lock.lock();
    }
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
        if (!turn.clientGone && std::ranges::find(m_toDelete, client) != std::ranges::end(m_toDelete)
            && !delivering(turn.outer, client)) {
            // Handed over for deletion while it delivered: it goes now, unless an outer turn still delivers it.
            lock.unlock();
            delete client;
            lock.lock();
            turn.client = nullptr;
            continue;
        }
        if (more && !turn.clientGone && !client->m_scheduled) {
            client->m_scheduled = true;
            m_ready.push_back(client);
            m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
        }
        turn.client = nullptr;
    }
    const bool nextTurnWanted = !m_nextTurn.empty();
    std::ranges::copy(m_nextTurn, std::back_inserter(m_ready));
    m_nextTurn.clear();
    m_readyCount.store(m_ready.size(), std::memory_order_relaxed);
    if ((budgetSpent || nextTurnWanted) && !m_ready.empty() && waker) {
        m_wakePending = true; // the timer is the wake-up now
        waker->yieldTurn();
    }
    m_turns = turn.outer;
}

bool DeliveryLane::deliverNow(LaneClient *client)
{
    // A turn of its own on the stack of turns, so that the client's destruction marks it gone; no budget: the
    // consumer asked for these deliveries, and the first one that has nothing ends them.
    Turn turn;
    turn.client = client;
    {
        std::lock_guard lock(m_mutex);
        turn.outer = std::exchange(m_turns, &turn);
    }
    while (client->deliverOne() && !turn.clientGone) { }
    std::lock_guard lock(m_mutex);
    m_turns = turn.outer;
    return !turn.clientGone;
}

LaneWaker *DeliveryLane::detachWaker()
{
    LaneWaker *detached = nullptr;
    {
        std::lock_guard lock(m_mutex);
        detached = std::exchange(waker, nullptr);
    }
    while (m_postsInFlight.load(std::memory_order_acquire) != 0)
        std::this_thread::yield(); // a post takes microseconds
    return detached;
}

namespace {

class LaneRegistry
{
public:
    std::mutex mutex;
    std::unordered_map<const QObject *, std::shared_ptr<DeliveryLane>> lanes; // by QThread
};

LaneRegistry &registry()
{
    // Never destroyed: lanes are used from static destructors (the default pool's).
    static LaneRegistry *const instance = new LaneRegistry;
    return *instance;
}

void retireLane(const QObject *thread);

//! The main thread's lane retires with the application: its timers and posted events go with the application's
//! dispatcher.
void retireMainThreadLane() { retireLane(QThread::currentThread()); }

//! The delivery lane of \a thread, made on first use.
std::shared_ptr<DeliveryLane> laneFor(QThread *thread)
{
    atApplicationExit(retireMainThreadLane);
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
    // The slots capture nothing: Qt hands a slot to the emitting thread under
    // its own mutex, which ThreadSanitizer cannot see, so a capture written
    // here would look like a race when the thread reads it.
    QObject::connect(
        thread, &QThread::finished, waker, [] { retireLane(QThread::currentThread()); }, Qt::DirectConnection);
    QObject::connect(
        thread, &QObject::destroyed, waker, [](QObject *gone) { retireLane(gone); }, Qt::DirectConnection);
    lane->waker = waker; // not yet shared: no other thread sees this lane
    return lane;
}

//! \a thread's lane stops waking up; the next laneFor() makes a new one.
void retireLane(const QObject *thread)
{
    std::shared_ptr<DeliveryLane> lane;
    {
        std::lock_guard lock(registry().mutex);
        const auto found = registry().lanes.extract(thread);
        if (found.empty())
            return;
        lane = std::move(found.mapped());
    }
    // Outside the registry's mutex: a client told of the end may make a lane client of its own.
    delete lane->detachWaker(); // in its own thread, or with a QThread that never ran
    lane->retireClients(); // no turn is running, and none will come
}

} // namespace

LaneClient::LaneClient(QThread *thread)
    : m_lane(laneFor(thread))
{
}

LaneClient::~LaneClient() { m_lane->remove(this); }

void LaneClient::scheduleDelivery() { m_lane->schedule(this); }

void LaneClient::deleteOnLane() { m_lane->scheduleDeletion(this); }

bool LaneClient::watchLaneEnd(const std::function<void()> &underLock) { return m_lane->watchEnd(this, underLock); }

void LaneClient::scheduleNextTurn() { m_lane->scheduleNextTurn(this); }

void LaneClient::scheduleDeliveryIn(std::chrono::milliseconds delay) { m_lane->scheduleAfter(this, delay); }

quint64 LaneClient::currentTurn() const { return m_lane->turnSerial; }

bool LaneClient::deliverNow()
{
    const std::shared_ptr<DeliveryLane> lane = m_lane; // the client may go, and with it its reference
    return lane->deliverNow(this);
}

void LaneClient::leaveLane() { m_lane->remove(this); }

void LaneClient::joinLane(QThread *thread) { m_lane = laneFor(thread); }

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
