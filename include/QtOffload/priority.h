// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/qtoffloadglobal.h>

#include <QtCore/QObject>

namespace QtOffload {

Q_NAMESPACE_EXPORT(QTOFFLOAD_EXPORT)

/*!
  How soon a job must start: what a user waits for (a tooltip, a preview, a
  search as they type) or work that may wait its turn.

  On a ThreadPool an Interactive job does not queue behind the pool's other
  jobs:
  - an idle worker takes it before any Normal job;
  - when every worker is busy, the pool's reserved thread runs it at once.
    The reserved thread runs Interactive jobs only, starts with the first
    one that finds no idle worker, keeps the Normal thread priority whatever
    ThreadPool::threadPriority() is, and is not counted in maxThreadCount().
    One Interactive job at a time runs there; more wait for it or for a worker.
  - a worker takes at most four Interactive jobs in a row while Normal jobs
    wait, so a stream of Interactive jobs slows Normal ones down but never
    stops them.

  On a QThreadPool an Interactive job is started with the highest priority
  (QThreadPool::start(runnable, INT_MAX)): it goes ahead of the queue but
  still waits for a free thread. A separate thread starts every job at once
  anyway and ignores it.
*/
enum class JobPriority {
    Normal, //!< in submission order with the pool's other Normal jobs
    Interactive, //!< ahead of Normal jobs, on the reserved thread when no worker is free
};
Q_ENUM_NS(JobPriority)

/*!
  What the scheduler gives a pool's workers against the program's other
  threads, the GUI thread above all (ThreadPool::threadPriority). On Linux
  QThread::setPriority() does nothing for normal threads, so the pool uses
  what the kernel honours.
*/
enum class ThreadPriority {
    Normal, //!< as the thread that made the pool
    //! Linux: SCHED_BATCH at nice 19, the workers give the core up to any other thread that wants it;
    //! elsewhere QThread::LowPriority, and from Qt 6.9 QThread::QualityOfService::Eco
    Background,
    //! Linux: SCHED_IDLE, runs only when a core would otherwise idle; elsewhere QThread::IdlePriority (and Eco)
    Idle,
};
Q_ENUM_NS(ThreadPriority)

} // namespace QtOffload
