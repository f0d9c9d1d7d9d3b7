// SPDX-License-Identifier: MIT
#pragma once

// The typed side of a generator: the producer's Sink<T>, TypedGenerator<T>
// over the QtGenerator core, its awaitables (next(), QCORO_FOREACH), the seed's iterator
// wrappers and threadedIterable(). The typed shell only converts: it takes
// one chunk out of the chunk buffer and hands it to the typed handler,
// chunkReady or a waiting next(); everything else (lazy start, lane turns,
// the end) is the core's, in src/generator.cpp.

#include <QtOffload/generator.h>
#include <QtOffload/impl/producer.h>

// QCORO_FOREACH over a generator, with this header alone.
#include <qcoro/qcoroasyncgenerator.h>

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>

namespace QtOffload {

template<typename T> class NextChunk;
template<typename T> class ChunkIterator;
template<typename T> class AdvanceChunk;

//! The maxSize threadedIterable() uses unless told: QTOFFLOAD_ITERABLE_MAX_SIZE, or 1024.
QTOFFLOAD_EXPORT qsizetype defaultIterableMaxSize();

namespace detail {
//! Whether chunkReady() can carry a T: QVariant::fromValue() copies it.
template<typename T> inline constexpr bool ChunkReadyCarries = std::is_copy_constructible_v<T>;

//! Nothing for chunks a QVariant can carry; otherwise what makes naming chunkReady on the typed handle fail to build.
template<typename T, bool = ChunkReadyCarries<T>> struct ChunkReadyGuard
{
};
template<typename T> struct ChunkReadyGuard<T, false>
{
    // The deduced return type makes `&TypedGenerator<T>::chunkReady` instantiate the body.
    static auto chunkReady(const QVariant &)
    {
        static_assert(ChunkReadyCarries<T>,
                      "QtOffload: chunkReady carries each chunk in a QVariant, which needs a copyable chunk type; "
                      "take move-only chunks with onChunk() or co_await next()");
    }
};

} // namespace detail

/*!
  The typed handle of a generator: the same chunks as T, without a QVariant.

  Pull them with `co_await gen->next()` (QCoro), which returns
  std::optional<T> (empty at the end) and rethrows the producer's exception;
  iterate with `QCORO_FOREACH(const T &chunk, *gen)`; or push them to a
  handler with onChunk(). All on the owner thread.
*/
template<typename T> class TypedGenerator : public QtGenerator, private detail::ChunkReadyGuard<T>
{
public:
    //! The chunk type.
    using value_type = T;

    /*!
      QtGenerator::chunkReady, when a QVariant can carry T. For a move-only T,
      naming `&TypedGenerator<T>::chunkReady` (in a connect(), say) fails to
      compile with a message that says to use onChunk() or next(); a
      connection made through QtGenerator reports errorOccurred() instead.
    */
    using std::conditional_t<detail::ChunkReadyCarries<T>, QtGenerator, detail::ChunkReadyGuard<T>>::chunkReady;

    /*!
      Runs \a body, a callable `void(Sink<T>&)`, on \a executor when the
      generator starts. Throws std::invalid_argument for \a maxSize < 0.
    */
    template<typename Body> TypedGenerator(Executor executor, qsizetype maxSize, Body body, QObject *parent = nullptr);
    ~TypedGenerator() override;

    /*!
      An awaitable for the next chunk: `while (auto chunk = co_await gen->next())`.
      Resolves to an empty optional once the producer finished or the
      generator was closed (and keeps doing so); rethrows the producer's
      exception once. Starts the producer. Only one next() may be pending.

      \warning g++ 12 miscompiles `if (co_await gen->next())` (the awaited
      optional used directly as a condition): bind it first, as in
      `auto chunk = co_await gen->next(); if (chunk)` or the while loop above.
    */
    [[nodiscard]] NextChunk<T> next() { return NextChunk<T>(this); }

    /*!
      For QCORO_FOREACH (`QCORO_FOREACH(const T &chunk, *gen) { ... }`):
      co_await begin() gives an iterator at the first chunk (or end()), and
      co_await ++it moves it on; the producer's exception is rethrown there.
      Pull mode, like next().
    */
    [[nodiscard]] AdvanceChunk<T> begin();
    //! The end of a QCORO_FOREACH loop.
    [[nodiscard]] ChunkIterator<T> end() noexcept;

    /*!
      Calls \a handler(const T &) on the owner thread for each chunk, in
      order, as long as \a receiver lives (null: as long as the generator).
      Counts as a consumer for the lazy start, like a connection to
      chunkReady. Works for move-only chunk types.
    */
    template<typename Handler> void onChunk(QObject *receiver, Handler handler);

private:
    friend class NextChunk<T>;
    friend class AdvanceChunk<T>;
    friend class ChunkIterator<T>;

    template<typename Body>
    TypedGenerator(std::shared_ptr<detail::ChunkBuffer<T>> buffer, Executor executor, Body body, QObject *parent);
    //! Where a chunk goes, in this order: the typed handler, chunkReady, a waiting next().
    enum class HandOut : quint8 { None, Handler, Signal, Next };

    //! The typed step the core is handed (QtGenerator::TypedStep).
    static bool deliverChunk(QtGenerator *core, bool mayTake);
    bool deliverTyped(bool mayTake);
    //! The consumer after \a done that wants the chunk, or None.
    HandOut handOutAfter(HandOut done) const;
    //! Hands \a chunk to \a to, the last call of a step; a next() takes it (it is the last consumer).
    bool handOutTo(HandOut to, T &chunk);
    //! A waiting next() gets the end: an empty optional, and the producer's exception once.
    bool completeNextAtEnd();
    //! The waiting next(), which no longer waits; back to pull mode with none waiting.
    NextChunk<T> *takeWaitingNext();
    //! The core's buffer, which the typed handle made as a ChunkBuffer<T>.
    detail::ChunkBuffer<T> &typedBuffer() const noexcept
    {
        return static_cast<detail::ChunkBuffer<T> &>(chunkBuffer());
    }

    std::function<void(const T &)> m_handler;
    bool m_errorRethrown = false;
    NextChunk<T> *m_waitingNext = nullptr; // waits for the coming chunk, suspended or still in await_ready()
    // A chunk on its way to more than one consumer, one per step: shared, so
    // that a consumer that destroys the generator does not destroy the chunk
    // it is reading too.
    std::shared_ptr<T> m_inHand;
    HandOut m_inHandNext = HandOut::None; // who gets m_inHand in the next step
    std::optional<T> m_current; // the chunk a QCORO_FOREACH iterator is at
};

/*!
  What `co_await gen->next()` awaits: the next chunk, or an empty optional
  at the end. Made by TypedGenerator::next(); on the owner thread.
*/
template<typename T> class NextChunk
{
public:
    //! Awaits \a generator's next chunk.
    explicit NextChunk(TypedGenerator<T> *generator)
        : m_generator(generator)
    {
    }

    /*!
      True when a chunk or the end is there already. Starts the producer.
      Throws std::logic_error on a thread other than the generator's, or
      for a generator that can never deliver.
    */
    bool await_ready()
    {
        if (!m_generator->acceptsConsumerCall("TypedGenerator::next()"))
            throw std::logic_error("QtOffload: next() on a generator that can never deliver (see its errorOccurred())");
        if (m_generator->m_waitingNext)
            throw std::logic_error("QtOffload: only one next() may wait on a generator at a time");
        m_generator->m_waitingNext = this;
        m_generator->setNextWaiting(true);
        // What is buffered comes now, through the delivery steps: they may
        // complete this, or destroy the generator, which completes it too.
        (void)m_generator->deliverNow();
        return m_completed;
    }
    //! Waits for the coming chunk.
    void await_suspend(std::coroutine_handle<> handle) { m_handle = handle; }
    //! The chunk, or an empty optional at the end; rethrows the producer's exception once.
    std::optional<T> await_resume()
    {
        if (m_error)
            std::rethrow_exception(m_error);
        return std::move(m_value);
    }

private:
    friend class TypedGenerator<T>;
    //! It has its chunk, or its end: resumes the coroutine if it is suspended (the caller's last action).
    bool complete()
    {
        m_completed = true;
        if (m_handle)
            m_handle.resume();
        return true;
    }

    TypedGenerator<T> *m_generator;
    std::coroutine_handle<> m_handle; // set once suspended
    std::optional<T> m_value;
    std::exception_ptr m_error;
    bool m_completed = false;
};

//! What QCORO_FOREACH walks with: at a chunk (held by the generator), or at the end. On the owner thread.
template<typename T> class ChunkIterator
{
public:
    //! The chunk type.
    using value_type = T;

    //! The end.
    ChunkIterator() noexcept = default;
    //! The chunk it is at.
    T &operator*() const { return *m_generator->m_current; }
    //! The chunk it is at.
    T *operator->() const { return &*m_generator->m_current; }
    //! An awaitable that moves it to the next chunk: `co_await ++it`.
    [[nodiscard]] AdvanceChunk<T> operator++() { return AdvanceChunk<T>(m_generator, this); }
    //! Equal when both are at the end, or at the same generator's current chunk.
    bool operator==(const ChunkIterator &other) const noexcept = default;

private:
    friend class AdvanceChunk<T>;
    explicit ChunkIterator(TypedGenerator<T> *generator) noexcept
        : m_generator(generator)
    {
    }

    TypedGenerator<T> *m_generator = nullptr; // null: the end
};

//! co_await begin() / co_await ++it: the next chunk, as an iterator.
template<typename T> class AdvanceChunk
{
public:
    //! The next chunk of \a generator; \a moves is the iterator it moves on (null for begin()).
    AdvanceChunk(TypedGenerator<T> *generator, ChunkIterator<T> *moves)
        : m_next(generator)
        , m_generator(generator)
        , m_moves(moves)
    {
    }

    //! As NextChunk::await_ready().
    bool await_ready() { return m_next.await_ready(); }
    //! As NextChunk::await_suspend().
    void await_suspend(std::coroutine_handle<> handle) { m_next.await_suspend(handle); }
    //! An iterator at the chunk, or end(); rethrows the producer's exception.
    ChunkIterator<T> await_resume()
    {
        std::optional<T> chunk = m_next.await_resume(); // rethrows the producer's exception
        ChunkIterator<T> at;
        if (chunk) {
            m_generator->m_current = std::move(chunk);
            at = ChunkIterator<T>(m_generator);
        }
        if (m_moves)
            *m_moves = at;
        return at;
    }

private:
    NextChunk<T> m_next;
    TypedGenerator<T> *m_generator;
    ChunkIterator<T> *m_moves; // the iterator ++ moves on (null for begin())
};

template<typename T>
template<typename Body>
TypedGenerator<T>::TypedGenerator(Executor executor, qsizetype maxSize, Body body, QObject *parent)
    : TypedGenerator(std::make_shared<detail::ChunkBuffer<T>>(maxSize), std::move(executor), std::move(body), parent)
{
}

template<typename T>
template<typename Body>
TypedGenerator<T>::TypedGenerator(std::shared_ptr<detail::ChunkBuffer<T>> buffer, Executor executor, Body body,
                                  QObject *parent)
    : QtGenerator(buffer, std::move(executor), std::make_unique<detail::ProducerJob<T, Body>>(buffer, std::move(body)),
                  &TypedGenerator::deliverChunk, detail::ChunkReadyCarries<T> ? nullptr : &typeid(T), parent)
{
}

template<typename T> TypedGenerator<T>::~TypedGenerator()
{
    // A coroutine suspended in next() must not wait for a chunk that can no longer come.
    if (NextChunk<T> *next = std::exchange(m_waitingNext, nullptr)) {
        next->m_error = std::make_exception_ptr(
            ShutdownError("QtOffload: the generator was destroyed while a next() was waiting"));
        next->complete();
    }
}

template<typename T> AdvanceChunk<T> TypedGenerator<T>::begin() { return AdvanceChunk<T>(this, nullptr); }

template<typename T> ChunkIterator<T> TypedGenerator<T>::end() noexcept { return {}; }

template<typename T> template<typename Handler> void TypedGenerator<T>::onChunk(QObject *receiver, Handler handler)
{
    static_assert(std::is_invocable_v<Handler &, const T &>, "QtOffload: onChunk's handler must take const T &");
    if (!acceptsConsumerCall("TypedGenerator::onChunk()"))
        return;
    m_handler = std::move(handler);
    setHandlerReceiver(receiver);
}

template<typename T> bool TypedGenerator<T>::deliverChunk(QtGenerator *core, bool mayTake)
{
    return static_cast<TypedGenerator *>(core)->deliverTyped(mayTake);
}

template<typename T> bool TypedGenerator<T>::deliverTyped(bool mayTake)
{
    if (m_inHand) {
        const std::shared_ptr<T> chunk = m_inHand; // outlives this, if the call below destroys it
        const HandOut to = std::exchange(m_inHandNext, handOutAfter(m_inHandNext));
        if (m_inHandNext == HandOut::None)
            m_inHand.reset();
        return handOutTo(to, *chunk);
    }
    if (isDone())
        return m_waitingNext && completeNextAtEnd();
    std::optional<T> chunk;
    if (!mayTake || !typedBuffer().take(chunk))
        return false;
    chunkTaken();
    const HandOut first = handOutAfter(HandOut::None);
    if (first == HandOut::None)
        return true; // nobody wants it any more (the receiver went): it is dropped, as a closed stream's are
    const HandOut second = handOutAfter(first);
    if (second != HandOut::None) {
        m_inHand = std::make_shared<T>(std::move(*chunk));
        m_inHandNext = second;
        const std::shared_ptr<T> held = m_inHand; // outlives this, if the call below destroys it
        return handOutTo(first, *held);
    }
    return handOutTo(first, *chunk);
}

template<typename T> typename TypedGenerator<T>::HandOut TypedGenerator<T>::handOutAfter(HandOut done) const
{
    if (done < HandOut::Handler && hasHandler())
        return HandOut::Handler;
    if constexpr (detail::ChunkReadyCarries<T>) {
        if (done < HandOut::Signal && wantsChunkReady())
            return HandOut::Signal; // a chunkReady connection sees pulled chunks too
    }
    if (done < HandOut::Next && m_waitingNext)
        return HandOut::Next;
    return HandOut::None;
}

template<typename T> bool TypedGenerator<T>::handOutTo(HandOut to, T &chunk)
{
    switch (to) {
    case HandOut::Handler:
        m_handler(chunk);
        return true;
    case HandOut::Signal:
        if constexpr (detail::ChunkReadyCarries<T>)
            Q_EMIT chunkReady(QVariant::fromValue(chunk));
        return true;
    case HandOut::Next: {
        NextChunk<T> *next = takeWaitingNext();
        next->m_value = std::move(chunk); // the last consumer, always
        return next->complete();
    }
    case HandOut::None:
        break;
    }
    return false;
}

template<typename T> NextChunk<T> *TypedGenerator<T>::takeWaitingNext()
{
    setNextWaiting(false);
    return std::exchange(m_waitingNext, nullptr);
}

template<typename T> bool TypedGenerator<T>::completeNextAtEnd()
{
    NextChunk<T> *next = takeWaitingNext();
    const detail::ChunkBufferBase::End end = typedBuffer().end();
    if (end.error && !std::exchange(m_errorRethrown, true))
        next->m_error = end.error;
    return next->complete();
}

namespace detail {

template<typename Explicit, typename F, typename... Args>
auto makeGenerator(const Executor &executor, qsizetype maxSize, F &&f, Args &&...args)
{
    auto [tag, body] = makeProducerBody<Explicit>(std::forward<F>(f), std::forward<Args>(args)...);
    using T = typename decltype(tag)::type;
    return std::make_unique<TypedGenerator<T>>(executor, maxSize, std::move(body));
}

//! What threadedIterable() returns: calling it creates a generator.
template<typename Explicit, typename Fn>
class [[nodiscard("threadedIterable(f) only wraps f: call the wrapper, threadedIterable(f)(args...), to make the "
                  "generator")]] IterableCall
{
public:
    IterableCall(Executor executor, Fn fn, qsizetype maxSize)
        : m_executor(std::move(executor))
        , m_fn(std::move(fn))
        , m_maxSize(maxSize)
    {
        if (maxSize < 0)
            throw std::invalid_argument(
                "QtOffload::threadedIterable: maxSize must be >= 0 (use QtOffload::Unbounded for no limit)");
    }

    template<typename... Args>
    [[nodiscard("dropping the generator closes it at once")]] auto operator()(Args &&...args) const
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
template<typename T> class IteratorWrapper : public TypedGenerator<T>
{
public:
    template<typename F>
    //! A generator over \a f's chunks, produced on \a executor, at most \a maxSize read ahead.
    IteratorWrapper(F f, Executor executor, qsizetype maxSize, QObject *parent = nullptr)
        : TypedGenerator<T>(std::move(executor), maxSize, detail::makeProducerBody<T>(std::move(f)).second, parent)
    {
    }
};

//! The seed's IteratorWrapperSeparate: the producer gets a dedicated thread.
template<typename T> class IteratorWrapperSeparate : public TypedGenerator<T>
{
public:
    template<typename F>
    //! A generator over \a f's chunks, produced on a thread of its own, at most \a maxSize read ahead.
    IteratorWrapperSeparate(F f, qsizetype maxSize, QObject *parent = nullptr)
        : TypedGenerator<T>(Executor::separateThread(QStringLiteral("QtOffload generator")), maxSize,
                            detail::makeProducerBody<T>(std::move(f)).second, parent)
    {
    }
};

//! The chunk type a producer \a F yields, as the iterator wrappers deduce it (Sink<T>& parameter, QCoro::Generator<T>
//! or range).
template<typename F>
using ProducedChunk = typename decltype(detail::makeProducerBody<void>(std::declval<F>()).first)::type;
template<typename F> IteratorWrapper(F, Executor, qsizetype, QObject * = nullptr) -> IteratorWrapper<ProducedChunk<F>>;
template<typename F>
IteratorWrapper(F, ThreadPool *, qsizetype, QObject * = nullptr) -> IteratorWrapper<ProducedChunk<F>>;
template<typename F>
IteratorWrapper(F, QThreadPool *, qsizetype, QObject * = nullptr) -> IteratorWrapper<ProducedChunk<F>>;
template<typename F>
IteratorWrapperSeparate(F, qsizetype, QObject * = nullptr) -> IteratorWrapperSeparate<ProducedChunk<F>>;

/*!
  The seed's @threaded_iterable: wraps a blocking producer; each call of the
  result, with the producer's remaining arguments, returns a
  std::unique_ptr<TypedGenerator<T>> whose producer runs on the default pool
  (or \a executor). Give T explicitly (`threadedIterable<int>(f)`) for a
  generic sink lambda. Throws std::invalid_argument for \a maxSize < 0.
*/
template<typename T = void, typename F> auto threadedIterable(F f, qsizetype maxSize = defaultIterableMaxSize())
{
    return detail::IterableCall<T, F>(Executor(), std::move(f), maxSize);
}

template<typename T = void, typename F>
auto threadedIterable(Executor executor, F f, qsizetype maxSize = defaultIterableMaxSize())
{
    return detail::IterableCall<T, F>(std::move(executor), std::move(f), maxSize);
}

//! The seed's @threaded_iterable_separate: like threadedIterable, each producer on a new dedicated thread.
template<typename T = void, typename F> auto threadedIterableSeparate(F f, qsizetype maxSize = defaultIterableMaxSize())
{
    return detail::IterableCall<T, F>(Executor::separateThread(QStringLiteral("QtOffload generator")), std::move(f),
                                      maxSize);
}

} // namespace QtOffload
