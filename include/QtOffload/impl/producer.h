// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.
//
// How a producer becomes a job: whatever the user wrote (a Sink<T>& function,
// a QCoro::Generator<T>, a range) is turned into one body `void(Sink<T>&)`,
// which ProducerJob runs on a worker, reporting to the chunk buffer.

#include <QtOffload/impl/job.h>
#include <QtOffload/producer.h>

#include <qcoro/qcorogenerator.h>

#include <functional>
#include <iterator>
#include <memory>
#include <ranges>
#include <tuple>
#include <type_traits>

namespace QtOffload::detail {

/*!
  What a producer job does whatever its chunk type (src/producer.cpp): it
  starts the buffer's producer, finishes it with the body's outcome, closes
  the stream when its executor asks it to stop, and fails the stream when
  its executor will never run it.
*/
class QTOFFLOAD_EXPORT ProducerJobBase : public Job
{
public:
    void requestStop() noexcept final;
    void cancel() noexcept final;

protected:
    explicit ProducerJobBase(std::shared_ptr<ChunkBufferBase> buffer);
    ~ProducerJobBase() override;

    //! False when the stream was closed before the producer started: the buffer is finished then, and the body must
    //! not run.
    bool startProducing() noexcept;
    //! The body returned (\a error null) or threw.
    JobOutcome finishProducing(std::exception_ptr error) noexcept;

    const std::shared_ptr<ChunkBufferBase> m_buffer;
    //! The creator's context, in force while the body runs.
    const Context m_context;
};

//! Runs a producer body on a worker and reports to its chunk buffer.
template<typename T, typename Body> class ProducerJob final : public ProducerJobBase
{
public:
    ProducerJob(std::shared_ptr<ChunkBuffer<T>> buffer, Body body)
        : ProducerJobBase(std::move(buffer))
        , m_body(std::move(body))
    {
    }

    JobOutcome run() noexcept override
    {
        if (!startProducing())
            return JobOutcome::Cancelled;
        std::exception_ptr error;
        {
            ContextScope scope(m_context);
            try {
                // Destroyed before the producer finishes: close()'s future means the
                // producer's state (files, coroutine frame) is gone too.
                Body body = std::move(m_body);
                Sink<T> sink(static_cast<ChunkBuffer<T> *>(m_buffer.get()));
                std::invoke(body, sink);
            } catch (...) {
                error = std::current_exception();
            }
        }
        return finishProducing(error);
    }

private:
    Body m_body;
};

template<typename T> struct IsQCoroGenerator : std::false_type
{
};
template<typename T> struct IsQCoroGenerator<QCoro::Generator<T>> : std::true_type
{
    using ValueType = std::remove_cvref_t<T>;
};

//! The parameter list of a non-generic callable (function, function pointer, member-less functor).
template<typename F, typename = void> struct CallableSignature
{
    static constexpr bool known = false;
};
template<typename R, typename... A> struct CallableSignature<R (*)(A...)>
{
    static constexpr bool known = true;
    using Params = std::tuple<A...>;
};
template<typename R, typename... A> struct CallableSignature<R (*)(A...) noexcept> : CallableSignature<R (*)(A...)>
{
};
template<typename R, typename... A> struct CallableSignature<R(A...)> : CallableSignature<R (*)(A...)>
{
};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...)> : CallableSignature<R (*)(A...)>
{
};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...) const> : CallableSignature<R (*)(A...)>
{
};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...) noexcept> : CallableSignature<R (*)(A...)>
{
};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...) const noexcept> : CallableSignature<R (*)(A...)>
{
};
template<typename F>
struct CallableSignature<F, std::void_t<decltype(&F::operator())>> : CallableSignature<decltype(&F::operator())>
{
};

template<typename P> struct SinkParam
{
    using ValueType = void;
};
template<typename T> struct SinkParam<Sink<T> &>
{
    using ValueType = T;
};

//! T when F's first parameter is Sink<T>&, else void.
template<typename F, bool = CallableSignature<F>::known> struct SinkValueOf
{
    using Type = void;
};
template<typename F> struct SinkValueOf<F, true>
{
    using Params = typename CallableSignature<F>::Params;
    using Type = typename std::conditional_t<
        (std::tuple_size_v<Params> > 0),
        SinkParam<
            std::tuple_element_t<0, std::conditional_t<(std::tuple_size_v<Params> > 0), Params, std::tuple<void>>>>,
        SinkParam<void>>::ValueType;
};

//! The chunk type of a producer QtOffload could not make sense of (a static_assert said why).
struct UnusableProducer
{
};

template<typename T, typename Fn, typename... Args>
struct SinkInvocable : std::is_invocable<Fn &, Sink<T> &, std::decay_t<Args> &&...>
{
};
template<typename Fn, typename... Args> struct SinkInvocable<void, Fn, Args...> : std::false_type
{
};

/*!
  Turns any accepted producer into a body `void(Sink<T>&)`: a push-style
  sink function, a function returning QCoro::Generator<T>, or a function
  returning any range (iterated in the worker). \a Explicit, when not void,
  names T; otherwise it is deduced.
*/
template<typename Explicit, typename F, typename... Args> auto makeProducerBody(F &&f, Args &&...args)
{
    using Fn = std::decay_t<F>;
    using SinkT = std::conditional_t<std::is_void_v<Explicit>, typename SinkValueOf<Fn>::Type, Explicit>;
    if constexpr (SinkInvocable<SinkT, Fn, Args...>::value) {
        auto body = [f = std::forward<F>(f),
                     tuple = std::make_tuple(std::forward<Args>(args)...)](Sink<SinkT> &sink) mutable {
            std::apply([&](auto &&...unpacked) { std::invoke(f, sink, std::move(unpacked)...); }, std::move(tuple));
        };
        return std::pair<std::type_identity<SinkT>, decltype(body)>({}, std::move(body));
    } else if constexpr (!std::is_invocable_v<Fn &, std::decay_t<Args> &&...>) {
        // Not a sink function QtOffload can call, and not one that returns a
        // generator or range either: most often a generic sink (auto &out)
        // or a Sink taken by value. Say so, instead of std::invoke's noise.
        static_assert(std::is_invocable_v<Fn &, std::decay_t<Args> &&...>,
                      "QtOffload: a sink producer takes its sink first, as Sink<T>& (a reference) with T named: "
                      "write [](QtOffload::Sink<int> &out) { ... }, or name T for a generic one, "
                      "threadedIterable<int>([](auto &out) { ... }); a producer without a sink returns "
                      "QCoro::Generator<T> or a range");
        // A well-formed stand-in, so that the assertion is the only error.
        auto body = [](Sink<UnusableProducer> &) {};
        return std::pair<std::type_identity<UnusableProducer>, decltype(body)>({}, std::move(body));
    } else {
        auto bound = bindArguments(std::forward<F>(f), std::forward<Args>(args)...);
        using R = ResultType<decltype(bound())>;
        if constexpr (IsQCoroGenerator<R>::value) {
            using T = std::conditional_t<std::is_void_v<Explicit>, typename IsQCoroGenerator<R>::ValueType, Explicit>;
            auto body = [bound = std::move(bound)](Sink<T> &sink) mutable {
                // Built in place, never moved: QCoro 0.8's Generator move leaves a handle behind.
                R generator = bound();
                for (auto &&value : generator) {
                    if (!sink.yield(T(std::move(value))))
                        return;
                }
            };
            return std::pair<std::type_identity<T>, decltype(body)>({}, std::move(body));
        } else {
            static_assert(
                std::ranges::input_range<R>,
                "QtOffload: a producer must take Sink<T>& first, return QCoro::Generator<T>, or return a range");
            using T = std::conditional_t<std::is_void_v<Explicit>, std::remove_cvref_t<std::ranges::range_value_t<R>>,
                                         Explicit>;
            auto body = [bound = std::move(bound)](Sink<T> &sink) mutable {
                R range = bound();
                for (auto &&value : range) {
                    if constexpr (std::is_lvalue_reference_v<
                                      decltype(value)> && !std::is_const_v<std::remove_reference_t<decltype(value)>>) {
                        if (!sink.yield(T(std::move(value))))
                            return;
                    } else {
                        if (!sink.yield(T(value)))
                            return;
                    }
                }
            };
            return std::pair<std::type_identity<T>, decltype(body)>({}, std::move(body));
        }
    }
}

} // namespace QtOffload::detail
