// SPDX-License-Identifier: MIT
// A producer job's steps that do not depend on its chunk type, compiled once
// instead of once for every ProducerJob<T, Body>.
#include <QtOffload/impl/producer.h>
#include <QtOffload/producer.h>

namespace QtOffload::detail {

ProducerJobBase::ProducerJobBase(std::shared_ptr<ChunkBufferBase> buffer)
    : m_buffer(std::move(buffer))
    , m_context(Context::capture())
{
}

ProducerJobBase::~ProducerJobBase() = default;

bool ProducerJobBase::startProducing() noexcept
{
    if (m_buffer->producerStarting())
        return true;
    m_buffer->producerFinished({});
    return false;
}

JobOutcome ProducerJobBase::finishProducing(std::exception_ptr error) noexcept
{
    const JobOutcome outcome = error ? JobOutcome::Failed : JobOutcome::Succeeded;
    m_buffer->producerFinished(std::move(error));
    return outcome;
}

// The executor shuts down while the producer runs: the stream closes, so the
// producer's next yield returns false.
void ProducerJobBase::requestStop() noexcept { (void)m_buffer->close(); }

void ProducerJobBase::cancel() noexcept
{
    m_buffer->producerFinished(std::make_exception_ptr(
        ShutdownError("QtOffload: the executor shut down before the generator's producer started")));
}

} // namespace QtOffload::detail
