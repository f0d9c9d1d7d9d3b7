// SPDX-License-Identifier: MIT
#pragma once

// What an Entrypoint needs of the default pool beyond ThreadPool's API.

namespace QtOffload {
class ThreadPool;
}

namespace QtOffload::detail {

//! The size of a default pool: QTOFFLOAD_POOL_SIZE if it is a positive number, else QThread::idealThreadCount().
int defaultPoolSize();

//! Installs \a pool as ThreadPool::setDefault() would; returns the explicitly set default it replaces (null: none).
ThreadPool *exchangeDefaultPool(ThreadPool *pool) noexcept;

} // namespace QtOffload::detail
