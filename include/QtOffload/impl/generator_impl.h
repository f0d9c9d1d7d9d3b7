// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.
//
// The typed shell of a generator (TypedGenerator<T>, declared in generator.h)
// and its awaitables. The shell only converts: it takes one chunk out of the
// chunk buffer and hands it to the typed handler, chunkReady or a waiting
// next(); everything else (lazy start, lane turns, the end) is the core's,
// in src/generator.cpp.

#include <QtOffload/impl/producer.h>

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>

namespace QtOffload {

namespace detail {

template<typename T> class NextChunk
{
public:
    explicit NextChunk(TypedGenerator<T> *generator)
        : m_generator(generator)
    {
    }

    bool await_ready()
    {
        if (!m_generator->acceptsConsumerCall("TypedGenerator::next()"))
            throw std::logic_error("QtOffload: next() on a generator that can never deliver (see its errorOccurred())");
        return tryComplete();
    }
    void await_suspend(std::coroutine_handle<> handle)
    {
        if (m_generator->m_waitingNext)
            throw std::logic_error("QtOffload: only one next() may wait on a generator at a time");
        m_handle = handle;
        m_generator->m_waitingNext = this;
        m_generator->setNextWaiting(true);
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

//! What QCORO_FOREACH walks with: at a chunk (held by the generator), or at the end.
template<typename T> class ChunkIterator
{
public:
    using value_type = T;

    ChunkIterator() noexcept = default;
    T &operator*() const { return *m_generator->m_current; }
    T *operator->() const { return &*m_generator->m_current; }
    [[nodiscard]] AdvanceChunk<T> operator++() { return AdvanceChunk<T>(m_generator, this); }
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
    AdvanceChunk(TypedGenerator<T> *generator, ChunkIterator<T> *moves)
        : m_next(generator)
        , m_generator(generator)
        , m_moves(moves)
    {
    }

    bool await_ready() { return m_next.await_ready(); }
    void await_suspend(std::coroutine_handle<> handle) { m_next.await_suspend(handle); }
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

} // namespace detail

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
                  detail::ChunkReadyCarries<T> ? nullptr : &typeid(T), parent)
    , m_buffer(std::move(buffer))
{
}

template<typename T> TypedGenerator<T>::~TypedGenerator()
{
    // A coroutine suspended in next() must not wait for a chunk that can no longer come.
    if (detail::NextChunk<T> *next = std::exchange(m_waitingNext, nullptr)) {
        next->m_error = std::make_exception_ptr(
            ShutdownError("QtOffload: the generator was destroyed while a next() was waiting"));
        next->m_handle.resume();
    }
}

template<typename T> detail::AdvanceChunk<T> TypedGenerator<T>::begin()
{
    return detail::AdvanceChunk<T>(this, nullptr);
}

template<typename T> detail::ChunkIterator<T> TypedGenerator<T>::end() noexcept { return {}; }

template<typename T> template<typename Handler> void TypedGenerator<T>::onChunk(QObject *receiver, Handler handler)
{
    static_assert(std::is_invocable_v<Handler &, const T &>, "QtOffload: onChunk's handler must take const T &");
    if (!acceptsConsumerCall("TypedGenerator::onChunk()"))
        return;
    m_handler = std::move(handler);
    setHandlerReceiver(receiver);
}

template<typename T> bool TypedGenerator<T>::deliverChunk()
{
    if (detail::NextChunk<T> *next = m_waitingNext) {
        if (!next->tryComplete())
            return false;
        m_waitingNext = nullptr;
        setNextWaiting(false);
        next->m_handle.resume(); // may destroy this
        return true;
    }
    std::optional<T> chunk;
    if (!m_buffer->take(chunk))
        return false;
    chunkTaken();
    handOut(*chunk);
    return true;
}

template<typename T> void TypedGenerator<T>::handOut(const T &chunk)
{
    QPointer<QObject> self(this);
    if (hasHandler()) {
        m_handler(chunk);
        if (!self)
            return;
    }
    if constexpr (detail::ChunkReadyCarries<T>) {
        if (wantsChunkReady())
            Q_EMIT chunkReady(QVariant::fromValue(chunk));
    }
}

template<typename T> bool TypedGenerator<T>::tryTakeNext(std::optional<T> &out, std::exception_ptr &error)
{
    setNextWaiting(m_waitingNext != nullptr); // pull mode from now on
    startIfNeeded();
    if (m_buffer->take(out)) {
        QPointer<QObject> self(this);
        chunkTaken(); // pull mode refreshes buffered at each next()
        if (self)
            handOut(*out); // a chunkReady connection sees pulled chunks too
        return true;
    }
    QPointer<QObject> self(this);
    const detail::ChunkBufferBase::End end = finishIfEnded(); // may destroy this
    if (!end.reached)
        return false;
    if (end.error && (!self || !m_errorRethrown)) {
        if (self)
            m_errorRethrown = true;
        error = end.error;
    }
    return true;
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

} // namespace QtOffload
