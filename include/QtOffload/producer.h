// SPDX-License-Identifier: MIT
#pragma once

// The producer's side of a generator: what a push-style producer is handed.

#include <QtOffload/impl/chunkbuffer.h>

namespace QtOffload {

namespace detail {
template<typename T, typename Body> class ProducerJob;
}

/*!
  The producer's end of a generator, for push-style producers
  `void f(Sink<T> &out, args...)`. Used only on the producer's thread.
*/
template<typename T> class Sink
{
public:
    Sink(const Sink &) = delete;
    Sink &operator=(const Sink &) = delete;

    /*!
      Hands \a value to the consumer. Blocks while the buffer is full
      (backpressure). Returns false once the consumer has closed the
      generator: the producer should return then.
    */
    bool yield(T value) { return m_buffer->push(std::move(value)); }
    //! True once the consumer closed the generator: the next yield() returns false.
    bool isClosed() const { return m_buffer->isClosed(); }

    /*!
      Reports how far the producer is, as QtGenerator's progress properties
      show it: a range (say 0 and a file's size) and then values in it. Cheap
      enough to call for every byte: the owner thread sees the latest value
      at most once per delivery turn, and the last one before finished().
      Setting the range resets the value to \a minimum, as QPromise does.
    */
    void setProgressRange(qint64 minimum, qint64 maximum) { m_buffer->reportProgressRange(minimum, maximum); }
    //! The producer's progress in the range set by setProgressRange().
    void setProgressValue(qint64 value) { m_buffer->reportProgressValue(value); }

private:
    template<typename, typename> friend class detail::ProducerJob;
    //! Made by the generator's producer job; a producer never makes one.
    explicit Sink(detail::ChunkBuffer<T> *buffer) noexcept
        : m_buffer(buffer)
    {
    }

    detail::ChunkBuffer<T> *m_buffer;
};

} // namespace QtOffload
