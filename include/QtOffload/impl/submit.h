// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.
//
// How a call becomes a job: submitCall() looks at what the callable takes
// first (a JobControl &, a StopToken, or only its arguments), builds the
// FutureJob for it and hands it to an Executor or a ThreadPool, whose
// submit() is the library's alone (SubmitAccess).

#include <QtOffload/impl/job.h>

#include <type_traits>
#include <utility>

namespace QtOffload::detail {

//! The library's key to the private submit() of Executor and ThreadPool.
struct SubmitAccess
{
    template<typename Target> static void submit(Target &target, JobPtr job) { target.submit(std::move(job)); }
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
