// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.
//
// The unit every executor runs: the pool, a separate thread and a QThreadPool
// all take a detail::Job. threaded(), the generator producers and
// ThreadPool::run() only differ in the Job they build. How a call becomes a
// job: submitCall() looks at what the callable takes first (a JobControl &,
// a StopToken, or only its arguments), builds the FutureJob for it and hands
// it to an Executor or a ThreadPool, whose submit() is the library's alone
// (SubmitAccess).

#include <QtOffload/contextvar.h>
#include <QtOffload/impl/finishfuture.h>
#include <QtOffload/jobcontrol.h>
#include <QtOffload/priority.h>
#include <QtOffload/stoptoken.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureInterface>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace QtOffload::detail {

enum class JobOutcome { Succeeded, Failed, Cancelled };

class QTOFFLOAD_EXPORT Job
{
public:
    virtual ~Job();
    //! Runs on the worker. Never throws: failures go where the job reports.
    virtual JobOutcome run() noexcept = 0;
    //! The job will never run (its executor is shutting down): tell whoever waits.
    virtual void cancel() noexcept = 0;
    //! Its executor shuts down while it runs (a pool's shutdown, an Entrypoint's, the application's exit): stop soon.
    virtual void requestStop() noexcept { }

    //! The next job in an executor's lock-free submission list; the executor's to use.
    Job *nextSubmitted = nullptr;
    //! Set before submission: where the executor queues it.
    JobPriority priority = JobPriority::Normal;
};
using JobPtr = std::unique_ptr<Job>;

template<typename R> using ResultType = std::remove_cvref_t<R>;

/*!
  A callable run once on a worker, its result or exception reported through a
  QFutureInterface. The context snapshot taken at submission is installed
  around the call and removed after it. A body that takes a JobControl & is
  handed the job's control (setControl()).
*/
template<typename R, typename Body> class FutureJob final : public Job
{
public:
    static constexpr bool Controlled = std::is_invocable_v<Body &, JobControl &>;

    explicit FutureJob(Body body, Context context = Context::capture())
        // Started|Running, as QtConcurrent reports it: result() and
        // waitForFinished() only wait for a future that is running.
        : m_body(std::move(body))
        , m_context(std::move(context))
        , m_promise(QFutureInterfaceBase::State(QFutureInterfaceBase::Started | QFutureInterfaceBase::Running))
    {
    }

    ~FutureJob() override
    {
        finishControl(); // dropped without running: the relay still retires
        releasingFuture(m_promise);
    }
    FutureJob(const FutureJob &) = delete;
    FutureJob &operator=(const FutureJob &) = delete;

    QFuture<R> future() { return m_promise.future(); }
    QFutureInterface<R> &promise() { return m_promise; }

    //! Wires \a stop so that cancel() of the future and requestStop() both request it.
    void setStopSource(StopSource stop)
    {
        stop.watchCancellation(m_promise);
        m_stop = std::move(stop);
    }

    //! The JobControl the body is called with, on the calling thread's delivery lane; \a stop as for setStopSource().
    void setControl(StopSource stop)
    {
        static_assert(Controlled);
        setStopSource(stop);
        m_controlState = makeJobControlState(m_promise, std::move(stop));
    }

    JobOutcome run() noexcept override
    {
        if (m_promise.isCanceled()) {
            finishControl();
            finishFuture(m_promise);
            return JobOutcome::Cancelled;
        }
        ContextScope scope(m_context);
        JobOutcome outcome = JobOutcome::Succeeded;
        try {
            if constexpr (std::is_void_v<R>) {
                call();
            } else {
                R result(call());
                finishControl(); // a watcher's resultReadyAt() sees the last progress too
                m_promise.reportAndMoveResult(std::move(result));
            }
        } catch (...) {
            const std::exception_ptr error = std::current_exception();
            announceHandOver(error);
            m_promise.reportException(error);
            outcome = JobOutcome::Failed;
        }
        finishControl(); // the last value is in the future before it finishes
        finishFuture(m_promise);
        return outcome;
    }

    void cancel() noexcept override
    {
        m_promise.reportCanceled();
        finishControl();
        finishFuture(m_promise);
    }

    void requestStop() noexcept override
    {
        if (m_stop)
            m_stop->requestStop();
    }

private:
    void finishControl() noexcept
    {
        if (m_controlState)
            finishProgress(*m_controlState);
    }

    decltype(auto) call()
    {
        if constexpr (Controlled) {
            JobControl control(m_controlState);
            return std::invoke(m_body, control);
        } else {
            return std::invoke(m_body);
        }
    }

    Body m_body;
    Context m_context;
    QFutureInterface<R> m_promise;
    std::optional<StopSource> m_stop; // most jobs take no StopToken: no state to allocate
    std::shared_ptr<JobControlState> m_controlState; // what the body's JobControl is made of
};

//! Reports an exception that escaped a job nobody waits for.
QTOFFLOAD_EXPORT void warnUnhandled(const std::exception_ptr &error) noexcept;

//! A callable run once with no future (ThreadPool::start()).
template<typename Body> class CallJob final : public Job
{
public:
    explicit CallJob(Body body)
        : m_body(std::move(body))
    {
    }

    JobOutcome run() noexcept override
    {
        ContextScope scope(m_context);
        try {
            std::invoke(m_body);
            return JobOutcome::Succeeded;
        } catch (...) {
            warnUnhandled(std::current_exception());
            return JobOutcome::Failed;
        }
    }
    void cancel() noexcept override { }

private:
    Body m_body;
    Context m_context = Context::capture();
};

/*!
  Binds \a f and copies/moves of \a args into a nullary callable: arguments
  are decay-copied at call time (never references to the caller's stack) and
  handed to \a f as rvalues, so move-only arguments work.
*/
template<typename F, typename... Args> auto bindArguments(F &&f, Args &&...args)
{
    return [f = std::forward<F>(f), tuple = std::make_tuple(std::forward<Args>(args)...)]() mutable -> decltype(auto) {
        return std::apply([&f](auto &&...unpacked) -> decltype(auto) { return std::invoke(f, std::move(unpacked)...); },
                          std::move(tuple));
    };
}

template<typename F, typename... Args>
using BoundResult = ResultType<std::invoke_result_t<F &, std::decay_t<Args> &&...>>;

template<typename T> struct IsQFuture : std::false_type
{
};
template<typename T> struct IsQFuture<QFuture<T>> : std::true_type
{
    using ValueType = T;
};

//! The library's key to the private submit() of Executor and ThreadPool.
struct SubmitAccess
{
    template<typename Target> static void submit(Target &target, JobPtr job) { target.submit(std::move(job)); }
};

//! A target (a ThreadPool) whose jobs are submitted with \a priority.
template<typename Target> struct PrioritizedTarget
{
    Target &target;
    JobPriority priority;

    void submit(JobPtr job) const
    {
        job->priority = priority;
        SubmitAccess::submit(target, std::move(job));
    }
};

//! f(StopToken, args...) is how \a Fn is called: it is handed a stop token first.
template<typename Fn, typename... Args>
concept TakesStopToken = std::is_invocable_v < std::decay_t<Fn>
&, StopToken, std::decay_t<Args> &&... > ;

//! f(JobControl &, args...) is how \a Fn is called: it is handed the job's control first.
template<typename Fn, typename... Args>
concept TakesJobControl = std::is_invocable_v < std::decay_t<Fn>
&, JobControl &, std::decay_t<Args> &&... > ;

template<typename Body> struct BodyResult
{
    using Type = ResultType<std::invoke_result_t<Body &>>;
};
template<typename Body>
requires std::is_invocable_v<Body &, JobControl &>
struct BodyResult<Body>
{
    using Type = ResultType<std::invoke_result_t<Body &, JobControl &>>;
};

/*!
  Submits \a body as one job to \a target (an Executor or a ThreadPool);
  \a stop (none or one) is requested by the future's cancel() and at
  shutdown. A body taking JobControl & gets the job's.
*/
template<typename Target, typename Body, typename... Stop> auto submitBody(Target &target, Body body, Stop... stop)
{
    static_assert(sizeof...(Stop) <= 1 && (std::is_same_v<Stop, StopSource> && ...));
    using R = typename BodyResult<Body>::Type;
    auto job = std::make_unique<FutureJob<R, Body>>(std::move(body));
    if constexpr (FutureJob<R, Body>::Controlled) {
        static_assert(sizeof...(Stop) == 1);
        (job->setControl(std::move(stop)), ...);
    } else {
        (job->setStopSource(std::move(stop)), ...);
    }
    QFuture<R> future = job->future();
    SubmitAccess::submit(target, std::move(job));
    return future;
}

/*!
  Builds the job for f(args...), f(jobControl, args...) when f takes a
  JobControl & first, or f(stopToken, args...) when it takes a StopToken
  first, and submits it to \a target; the returned future reports its result.
*/
template<typename Target, typename F, typename... Args> auto submitCall(Target &&target, F &&f, Args &&...args)
{
    if constexpr (TakesJobControl<F, Args...>) {
        auto body = [f = std::forward<F>(f), tuple = std::make_tuple(std::forward<Args>(args)...)](
                        JobControl &control) mutable -> decltype(auto) {
            return std::apply(
                [&](auto &&...unpacked) -> decltype(auto) { return std::invoke(f, control, std::move(unpacked)...); },
                std::move(tuple));
        };
        return submitBody(target, std::move(body), StopSource());
    } else if constexpr (TakesStopToken<F, Args...>) {
        StopSource stop;
        StopToken token = stop.token();
        return submitBody(target, bindArguments(std::forward<F>(f), std::move(token), std::forward<Args>(args)...),
                          std::move(stop));
    } else if constexpr (std::is_invocable_v<std::decay_t<F> &, std::decay_t<Args> &&...>) {
        return submitBody(target, bindArguments(std::forward<F>(f), std::forward<Args>(args)...));
    } else {
        static_assert(std::is_invocable_v<std::decay_t<F> &, std::decay_t<Args> &&...>,
                      "QtOffload: the job's callable cannot be called with these arguments as a job calls it. Each "
                      "argument is copied or moved into the job and handed to the callable as an rvalue, so a "
                      "parameter that takes a non-const reference (T &) cannot bind: take it by value or by "
                      "const T &, or pass std::ref(x) to share the caller's object (which must then outlive the job)");
    }
}

} // namespace QtOffload::detail
