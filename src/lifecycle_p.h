// SPDX-License-Identifier: MIT
#pragma once

// Process-wide bookkeeping for an orderly shutdown: which generators are
// open, and whether the main event loop can still run posted calls (the
// separate threads keep their own book: separatethread_p.h). Entrypoint
// and the application's destruction (a post routine) drive it.

#include <memory>

class QObject;
class QThread;

namespace QtOffload {
class ThreadPool;
}

namespace QtOffload::detail {

class ChunkBufferBase;

//! The size of a default pool: QTOFFLOAD_POOL_SIZE if it is a positive number, else QThread::idealThreadCount().
int defaultPoolSize();

//! Installs \a pool as ThreadPool::setDefault() would; returns the explicitly set default it replaces (null: none).
ThreadPool *exchangeDefaultPool(ThreadPool *pool) noexcept;

bool mainEventLoopClosed() noexcept;
void setMainEventLoopClosed(bool closed) noexcept;

class DeliveryLane;
//! The delivery lane of \a thread, made on first use (deliverylane.cpp).
std::shared_ptr<DeliveryLane> laneFor(QThread *thread);
//! \a thread's lane stops waking up; the next laneFor() makes a new one.
void retireLane(const QObject *thread);

//! Once per QCoreApplication: at its destruction, close generators, stop separate threads, close the main loop.
void ensureApplicationHooks();

void registerGenerator(const std::shared_ptr<ChunkBufferBase> &buffer);
//! The producer of \a buffer runs on \a pool (null: elsewhere); that pool's shutdown closes the stream.
void setGeneratorPool(const ChunkBufferBase *buffer, const ThreadPool *pool);
void unregisterGenerator(const ChunkBufferBase *buffer);
//! Closes the open generators whose producers run on \a pool, or every one for null; returns how many.
int closeGenerators(const ThreadPool *pool);

//! True on a worker of a ThreadPool that is shutting down (threadpool.cpp): its JobControl jobs are asked to stop.
bool currentPoolIsStopping() noexcept;

} // namespace QtOffload::detail
