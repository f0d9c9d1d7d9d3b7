// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/channel.h>
#include <QtOffload/executor.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QVariant>

#include <qcoro/qcorogenerator.h>

#include <coroutine>
#include <deque>
#include <functional>
#include <iterator>
#include <optional>
#include <tuple>

namespace QtOffload {

/*!
  The producer's end of a generator, for push-style producers
  `void f(Sink<T> &out, args...)`. Used only on the producer's thread.
*/
template<typename T>
class Sink
{
public:
    explicit Sink(detail::Channel<T> *channel) noexcept : m_channel(channel) {}
    Sink(const Sink &) = delete;
    Sink &operator=(const Sink &) = delete;

    /*!
      Hands \a value to the consumer. Blocks while the buffer is full
      (backpressure). Returns false once the consumer has closed the
      generator: the producer should return then.
    */
    bool yield(T value) { return m_channel->push(std::move(value)); }
    bool isClosed() const { return m_channel->isClosed(); }

private:
    detail::Channel<T> *m_channel;
};

/*!
  The consumer side of a generator: a QObject living in the thread that
  consumes it (its owner thread), where every signal is emitted.

  The producer starts lazily: at the first next() of the typed handle, or at
  the first event-loop turn after construction if chunkReady (or a typed
  handler) is connected by then — or as soon as one gets connected later.
  Connecting right after creating the generator never misses a chunk, and
  chunks are never delivered to nobody: with no consumer they wait in the
  bounded buffer.

  The buffered property follows the buffer while chunks are pushed to
  chunkReady/onChunk; in pull mode (next()) it is refreshed at each next().

  Signals, in order: chunkReady() for each chunk, then finished(); when the
  producer throws, errorOccurred() then finished(). One delivery turn takes
  about 2 ms at most, then yields to the event loop, so a fast producer
  cannot freeze the GUI.

  Destroying it closes it. Usable from QML (see registerQmlTypes()).
*/
class QTOFFLOAD_EXPORT QtGenerator : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    Q_PROPERTY(qsizetype maxSize READ maxSize CONSTANT)
    Q_PROPERTY(qsizetype buffered READ buffered NOTIFY bufferedChanged)
    Q_PROPERTY(bool done READ isDone NOTIFY finished)

public:
    ~QtGenerator() override;

    //! True from the producer's start until finished() was emitted.
    bool isRunning() const noexcept { return m_running; }
    qsizetype maxSize() const noexcept;
    //! Chunks produced and not yet delivered.
    qsizetype buffered() const;
    //! True once finished() was emitted.
    bool isDone() const noexcept { return m_done; }

    /*!
      Closes the generator: the producer's next yield returns false (a
      coroutine producer is destroyed at its next co_yield), a producer
      blocked on a full buffer wakes, buffered chunks are dropped, and
      finished() follows once the producer has returned. The future finishes
      when the producer has really stopped; it is finished at once when the
      producer never started. Closing again returns the same future.
      Thread: the owner thread. From QML, the return value is ignored.
    */
    Q_INVOKABLE QFuture<void> close();

Q_SIGNALS:
    void chunkReady(const QVariant &chunk);
    void finished();
    void errorOccurred(const QString &message);
    void runningChanged(bool running);
    void bufferedChanged(qsizetype buffered);

protected:
    QtGenerator(std::shared_ptr<detail::ChannelBase> channel, Executor executor, detail::JobPtr producer,
                QObject *parent);

    bool event(QEvent *event) override;
    void connectNotify(const QMetaMethod &signal) override;

    // --- what the typed handle provides ---
    //! Moves buffered chunks into the consumer-side queue; returns how many are queued there now.
    virtual qsizetype refillPending() = 0;
    virtual bool hasPending() const = 0;
    virtual qsizetype pendingCount() const = 0;
    //! Delivers the first queued chunk (typed handler and chunkReady). May delete this.
    virtual void deliverPending() = 0;
    virtual void dropPending() = 0;
    virtual bool hasTypedHandler() const = 0;
    enum class NextState { NoneWaiting, Resumed, StillWaiting };
    //! If a next() is suspended, tries to complete and resume it.
    virtual NextState completePendingNext() = 0;

    // --- shared machinery for the typed handle ---
    void startIfNeeded();
    bool wantsChunkReady() const;
    //! Accounts one delivered chunk against maxSize (released in small batches).
    void chunkDelivered();
    //! Emits errorOccurred()/finished() once the end is reached and nothing is queued; returns the end.
    detail::ChannelBase::End finishIfEnded();
    void postDrain();
    void emitBufferedIfChanged();

    bool m_pullMode = false;

private:
    void drain();
    void flushReleases();
    void setRunning(bool running);

    std::shared_ptr<detail::ChannelBase> m_channel;
    Executor m_executor;
    detail::JobPtr m_producer;
    qsizetype m_releaseStep = 1;
    qsizetype m_unreleased = 0;
    qsizetype m_lastBuffered = 0;
    bool m_started = false;
    bool m_firstTurnSeen = false;
    bool m_running = false;
    bool m_done = false;
    bool m_errorReported = false;
    QFuture<void> m_closeFuture;
    bool m_closed = false;
};

template<typename T>
class TypedGenerator;

namespace detail {

//! Runs a producer body on a worker and reports to the channel.
template<typename T, typename Body>
class ProducerJob final : public Job
{
public:
    ProducerJob(std::shared_ptr<Channel<T>> channel, Body body)
        : m_channel(std::move(channel)), m_body(std::move(body)), m_context(Context::capture())
    {
    }

    JobOutcome run() noexcept override
    {
        if (!m_channel->producerStarting()) {
            m_channel->producerFinished({});
            return JobOutcome::Cancelled;
        }
        std::exception_ptr error;
        {
            ContextScope scope(m_context);
            try {
                // Destroyed before producerFinished(): close()'s future means the
                // producer's state (files, coroutine frame) is gone too.
                Body body = std::move(m_body);
                Sink<T> sink(m_channel.get());
                std::invoke(body, sink);
            } catch (...) {
                error = std::current_exception();
            }
        }
        m_channel->producerFinished(error);
        return error ? JobOutcome::Failed : JobOutcome::Succeeded;
    }

    void cancel() noexcept override
    {
        m_channel->producerFinished(
            std::make_exception_ptr(ShutdownError("QtOffload: the executor shut down before the generator's producer started")));
    }

private:
    std::shared_ptr<Channel<T>> m_channel;
    Body m_body;
    Context m_context;
};

template<typename T>
struct IsQCoroGenerator : std::false_type {};
template<typename T>
struct IsQCoroGenerator<QCoro::Generator<T>> : std::true_type
{
    using ValueType = std::remove_cvref_t<T>;
};

//! The parameter list of a non-generic callable (function, function pointer, member-less functor).
template<typename F, typename = void>
struct CallableSignature { static constexpr bool known = false; };
template<typename R, typename... A>
struct CallableSignature<R (*)(A...)> { static constexpr bool known = true; using Params = std::tuple<A...>; };
template<typename R, typename... A>
struct CallableSignature<R (*)(A...) noexcept> : CallableSignature<R (*)(A...)> {};
template<typename R, typename... A>
struct CallableSignature<R(A...)> : CallableSignature<R (*)(A...)> {};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...)> : CallableSignature<R (*)(A...)> {};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...) const> : CallableSignature<R (*)(A...)> {};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...) noexcept> : CallableSignature<R (*)(A...)> {};
template<typename R, typename C, typename... A>
struct CallableSignature<R (C::*)(A...) const noexcept> : CallableSignature<R (*)(A...)> {};
template<typename F>
struct CallableSignature<F, std::void_t<decltype(&F::operator())>> : CallableSignature<decltype(&F::operator())> {};

template<typename P>
struct SinkParam { using ValueType = void; };
template<typename T>
struct SinkParam<Sink<T> &> { using ValueType = T; };

//! T when F's first parameter is Sink<T>&, else void.
template<typename F, bool = CallableSignature<F>::known>
struct SinkValueOf { using Type = void; };
template<typename F>
struct SinkValueOf<F, true>
{
    using Params = typename CallableSignature<F>::Params;
    using Type = typename std::conditional_t<(std::tuple_size_v<Params> > 0),
                                             SinkParam<std::tuple_element_t<0, std::conditional_t<(std::tuple_size_v<Params> > 0), Params, std::tuple<void>>>>,
                                             SinkParam<void>>::ValueType;
};

template<typename T, typename Fn, typename... Args>
struct SinkInvocable : std::is_invocable<Fn &, Sink<T> &, std::decay_t<Args> &&...> {};
template<typename Fn, typename... Args>
struct SinkInvocable<void, Fn, Args...> : std::false_type {};

/*!
  Turns any accepted producer into a body `void(Sink<T>&)`: a push-style
  sink function, a function returning QCoro::Generator<T>, or a function
  returning any range (iterated in the worker). \a Explicit, when not void,
  names T; otherwise it is deduced.
*/
template<typename Explicit, typename F, typename... Args>
auto makeProducerBody(F &&f, Args &&...args)
{
    using Fn = std::decay_t<F>;
    using SinkT = std::conditional_t<std::is_void_v<Explicit>, typename SinkValueOf<Fn>::Type, Explicit>;
    if constexpr (SinkInvocable<SinkT, Fn, Args...>::value) {
        auto body = [f = std::forward<F>(f), tuple = std::make_tuple(std::forward<Args>(args)...)](Sink<SinkT> &sink) mutable {
            std::apply([&](auto &&...unpacked) { std::invoke(f, sink, std::move(unpacked)...); }, std::move(tuple));
        };
        return std::pair<std::type_identity<SinkT>, decltype(body)>({}, std::move(body));
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
            static_assert(std::ranges::input_range<R>,
                          "QtOffload: a producer must take Sink<T>& first, return QCoro::Generator<T>, or return a range");
            using T = std::conditional_t<std::is_void_v<Explicit>, std::remove_cvref_t<std::ranges::range_value_t<R>>, Explicit>;
            auto body = [bound = std::move(bound)](Sink<T> &sink) mutable {
                R range = bound();
                for (auto &&value : range) {
                    if constexpr (std::is_lvalue_reference_v<decltype(value)>
                                  && !std::is_const_v<std::remove_reference_t<decltype(value)>>) {
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

//! QTOFFLOAD_ITERABLE_MAX_SIZE, or 1024.
QTOFFLOAD_EXPORT qsizetype defaultIterableMaxSize();

template<typename T>
class NextChunk;

} // namespace detail

/*!
  The typed handle of a generator: the same chunks as T, without a QVariant.

  Pull them with `co_await gen->next()` (QCoro), which returns
  std::optional<T> (empty at the end) and rethrows the producer's exception;
  or push them to a handler with onChunk(). All on the owner thread.
*/
template<typename T>
class TypedGenerator : public QtGenerator
{
public:
    using value_type = T;

    /*!
      Runs \a body — a callable `void(Sink<T>&)` — on \a executor when the
      generator starts. Throws std::invalid_argument for \a maxSize < 0.
    */
    template<typename Body>
    TypedGenerator(Executor executor, qsizetype maxSize, Body body, QObject *parent = nullptr)
        : TypedGenerator(std::make_shared<detail::Channel<T>>(maxSize), std::move(executor), std::move(body), parent)
    {
    }

    ~TypedGenerator() override
    {
        // A coroutine suspended in next() must not wait for a chunk that can no longer come.
        if (m_pendingNext) {
            m_pendingNext->m_error = std::make_exception_ptr(
                ShutdownError("QtOffload: the generator was destroyed while a next() was waiting"));
            auto next = std::exchange(m_pendingNext, nullptr);
            next->m_handle.resume();
        }
    }

    /*!
      An awaitable for the next chunk: `while (auto chunk = co_await gen->next())`.
      Resolves to an empty optional once the producer finished or the
      generator was closed (and keeps doing so); rethrows the producer's
      exception once. Starts the producer. Only one next() may be pending.

      \warning g++ 12 miscompiles `if (co_await gen->next())` (the awaited
      optional used directly as a condition): bind it first, as in
      `auto chunk = co_await gen->next(); if (chunk)` or the while loop above.
    */
    detail::NextChunk<T> next() { return detail::NextChunk<T>(this); }

    /*!
      Calls \a handler(const T &) on the owner thread for each chunk, in
      order, as long as \a receiver lives. Counts as a consumer for the lazy
      start, like a connection to chunkReady.
    */
    template<typename Handler>
    void onChunk(QObject *receiver, Handler handler)
    {
        m_handlerReceiver = receiver;
        m_hasReceiver = receiver != nullptr;
        m_handler = std::move(handler);
        if (!m_pullMode)
            postDrain();
    }

protected:
    qsizetype refillPending() override
    {
        channel()->takeAll(m_pending);
        return qsizetype(m_pending.size());
    }
    bool hasPending() const override { return !m_pending.empty(); }
    qsizetype pendingCount() const override { return qsizetype(m_pending.size()); }
    void deliverPending() override
    {
        T chunk = std::move(m_pending.front());
        m_pending.pop_front();
        chunkDelivered();
        emitChunk(chunk);
    }
    void dropPending() override { m_pending.clear(); }
    bool hasTypedHandler() const override { return bool(m_handler) && (!m_hasReceiver || m_handlerReceiver); }
    NextState completePendingNext() override
    {
        if (!m_pendingNext)
            return NextState::NoneWaiting;
        if (!m_pendingNext->tryComplete())
            return NextState::StillWaiting;
        auto next = std::exchange(m_pendingNext, nullptr);
        next->m_handle.resume(); // may destroy this
        return NextState::Resumed;
    }

private:
    friend class detail::NextChunk<T>;

    template<typename Body>
    TypedGenerator(std::shared_ptr<detail::Channel<T>> channel, Executor executor, Body body, QObject *parent)
        : QtGenerator(channel, std::move(executor),
                      std::make_unique<detail::ProducerJob<T, Body>>(channel, std::move(body)), parent)
        , m_channel(std::move(channel))
    {
    }

    detail::Channel<T> *channel() const { return m_channel.get(); }

    void emitChunk(const T &chunk)
    {
        QPointer<QObject> self(this);
        if (hasTypedHandler()) {
            m_handler(chunk);
            if (!self)
                return;
        }
        if (wantsChunkReady()) {
            if constexpr (std::is_copy_constructible_v<T>)
                Q_EMIT chunkReady(QVariant::fromValue(chunk));
        }
    }

    // Pull path, used by NextChunk on the owner thread.
    bool tryTakeNext(std::optional<T> &out, std::exception_ptr &error)
    {
        m_pullMode = true;
        startIfNeeded();
        if (m_pending.empty())
            refillPending();
        if (!m_pending.empty()) {
            out.emplace(std::move(m_pending.front()));
            m_pending.pop_front();
            chunkDelivered();
            QPointer<QObject> self(this);
            emitBufferedIfChanged(); // pull mode refreshes buffered at each next()
            if (self && wantsChunkReady())
                emitChunk(*out);
            return true;
        }
        const auto end = finishIfEnded();
        if (end.reached) {
            if (end.error && !m_errorRethrown) {
                m_errorRethrown = true;
                error = end.error;
            }
            return true;
        }
        return false;
    }

    std::shared_ptr<detail::Channel<T>> m_channel;
    std::deque<T> m_pending;
    std::function<void(const T &)> m_handler;
    QPointer<QObject> m_handlerReceiver;
    bool m_hasReceiver = false;
    bool m_errorRethrown = false;
    detail::NextChunk<T> *m_pendingNext = nullptr;
};

namespace detail {

template<typename T>
class NextChunk
{
public:
    explicit NextChunk(TypedGenerator<T> *generator) : m_generator(generator) {}

    bool await_ready() { return tryComplete(); }
    void await_suspend(std::coroutine_handle<> handle)
    {
        if (m_generator->m_pendingNext)
            throw std::logic_error("QtOffload: only one next() may wait on a generator at a time");
        m_handle = handle;
        m_generator->m_pendingNext = this;
        m_generator->postDrain();
    }
    std::optional<T> await_resume()
    {
        if (m_error)
            std::rethrow_exception(m_error);
        return std::move(m_value);
    }

private:
    friend class TypedGenerator<T>;
    bool tryComplete() { return m_generator->tryTakeNext(m_value, m_error); }

    TypedGenerator<T> *m_generator;
    std::coroutine_handle<> m_handle;
    std::optional<T> m_value;
    std::exception_ptr m_error;
};

template<typename Explicit, typename F, typename... Args>
auto makeGenerator(const Executor &executor, qsizetype maxSize, F &&f, Args &&...args)
{
    auto [tag, body] = makeProducerBody<Explicit>(std::forward<F>(f), std::forward<Args>(args)...);
    using T = typename decltype(tag)::type;
    return std::make_unique<TypedGenerator<T>>(executor, maxSize, std::move(body));
}

//! What threadedIterable() returns: calling it creates a generator.
template<typename Explicit, typename Fn>
class IterableCall
{
public:
    IterableCall(Executor executor, Fn fn, qsizetype maxSize)
        : m_executor(std::move(executor)), m_fn(std::move(fn)), m_maxSize(maxSize)
    {
        if (maxSize < 0)
            throw std::invalid_argument("QtOffload::threadedIterable: maxSize must be >= 0 (use QtOffload::Unbounded for no limit)");
    }

    template<typename... Args>
    [[nodiscard("dropping the generator closes it at once")]]
    auto operator()(Args &&...args) const
    {
        return makeGenerator<Explicit>(m_executor, m_maxSize, m_fn, std::forward<Args>(args)...);
    }

private:
    Executor m_executor;
    Fn m_fn;
    qsizetype m_maxSize;
};

} // namespace detail

/*!
  The seed's IteratorWrapper: a generator whose producer \a f (no
  arguments) runs on \a executor, with at most \a maxSize chunks read ahead.
  T is deduced from f (Sink<T>& parameter, QCoro::Generator<T> or range).
*/
template<typename T>
class IteratorWrapper : public TypedGenerator<T>
{
public:
    template<typename F>
    IteratorWrapper(F f, Executor executor, qsizetype maxSize, QObject *parent = nullptr)
        : TypedGenerator<T>(std::move(executor), maxSize, detail::makeProducerBody<T>(std::move(f)).second, parent)
    {
    }
};

//! The seed's IteratorWrapperSeparate: the producer gets a dedicated thread.
template<typename T>
class IteratorWrapperSeparate : public TypedGenerator<T>
{
public:
    template<typename F>
    IteratorWrapperSeparate(F f, qsizetype maxSize, QObject *parent = nullptr)
        : TypedGenerator<T>(Executor::separateThread(QStringLiteral("QtOffload generator")), maxSize,
                            detail::makeProducerBody<T>(std::move(f)).second, parent)
    {
    }
};

namespace detail {
template<typename F>
using DeducedChunk = typename decltype(makeProducerBody<void>(std::declval<F>()).first)::type;
}
template<typename F>
IteratorWrapper(F, Executor, qsizetype, QObject * = nullptr) -> IteratorWrapper<detail::DeducedChunk<F>>;
template<typename F>
IteratorWrapper(F, ThreadPool *, qsizetype, QObject * = nullptr) -> IteratorWrapper<detail::DeducedChunk<F>>;
template<typename F>
IteratorWrapper(F, QThreadPool *, qsizetype, QObject * = nullptr) -> IteratorWrapper<detail::DeducedChunk<F>>;
template<typename F>
IteratorWrapperSeparate(F, qsizetype, QObject * = nullptr) -> IteratorWrapperSeparate<detail::DeducedChunk<F>>;

/*!
  The seed's @threaded_iterable: wraps a blocking producer; each call of the
  result, with the producer's remaining arguments, returns a
  std::unique_ptr<TypedGenerator<T>> whose producer runs on the default pool
  (or \a executor). Give T explicitly (`threadedIterable<int>(f)`) for a
  generic sink lambda. Throws std::invalid_argument for \a maxSize < 0.
*/
template<typename T = void, typename F>
auto threadedIterable(F f, qsizetype maxSize = detail::defaultIterableMaxSize())
{
    return detail::IterableCall<T, F>(Executor(), std::move(f), maxSize);
}

template<typename T = void, typename F>
auto threadedIterable(Executor executor, F f, qsizetype maxSize = detail::defaultIterableMaxSize())
{
    return detail::IterableCall<T, F>(std::move(executor), std::move(f), maxSize);
}

//! The seed's @threaded_iterable_separate: like threadedIterable, each producer on a new dedicated thread.
template<typename T = void, typename F>
auto threadedIterableSeparate(F f, qsizetype maxSize = detail::defaultIterableMaxSize())
{
    return detail::IterableCall<T, F>(Executor::separateThread(QStringLiteral("QtOffload generator")), std::move(f), maxSize);
}

} // namespace QtOffload
