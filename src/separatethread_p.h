// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/impl/job.h>

#include <QtCore/QStringList>

#include <chrono>

namespace QtOffload::detail {

//! Runs \a job on a new QThread named "<namePrefix> #n"; the thread ends when the job returns.
void startSeparateThread(JobPtr job, const QString &namePrefix);
//! Asks the job of every separate thread still running to stop (StopToken).
void stopSeparateThreads();
//! Waits up to \a timeout for every separate thread; returns the names of those still running.
QStringList joinSeparateThreads(std::chrono::milliseconds timeout);

} // namespace QtOffload::detail
