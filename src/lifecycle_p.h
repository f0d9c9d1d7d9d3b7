// SPDX-License-Identifier: MIT
#pragma once

// Process-wide bookkeeping for an orderly shutdown: which generators are
// open, which separate threads run, and whether the main event loop can
// still run posted calls. Entrypoint and the application's destruction
// (a post routine) drive it.

#include <QtOffload/job.h>

#include <QtCore/QStringList>

#include <memory>

namespace QtOffload { class ThreadPool; }

namespace QtOffload::detail {

class ChannelBase;

//! Installs \a pool as ThreadPool::setDefault() would; returns the explicitly set default it replaces (null: none).
ThreadPool *exchangeDefaultPool(ThreadPool *pool) noexcept;

bool mainEventLoopClosed() noexcept;
void setMainEventLoopClosed(bool closed) noexcept;

//! Once per QCoreApplication: at its destruction, close generators, stop separate threads, close the main loop.
void ensureApplicationHooks();

void registerGenerator(const std::shared_ptr<ChannelBase> &channel);
void unregisterGenerator(const ChannelBase *channel);
//! Closes every open generator; returns how many.
int closeAllGenerators();

//! Runs \a job on a new QThread named "<namePrefix> #n".
void startSeparateThread(JobPtr job, const QString &namePrefix);
void stopSeparateThreads();
//! Waits up to \a timeout for every separate thread; returns the names of those still running.
QStringList joinSeparateThreads(std::chrono::milliseconds timeout);

} // namespace QtOffload::detail
