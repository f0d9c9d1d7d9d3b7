// SPDX-License-Identifier: MIT
#pragma once

// The one way into Qt's private future internals (QtCore/private, from
// qt6-base-private-dev). QtOffload reaches QFutureInterfaceBasePrivate for
// two things that Qt's public API cannot do:
// - finishFuture() (src/finishfuture.cpp) puts a CancelledError into a
//   cancelled future and, before Qt 6.10, closes QTBUG-118032's window;
// - FutureWatch (src/futurewatch.cpp) hears a future finish through Qt's
//   own QFutureCallOutInterface, the hook QFutureWatcher uses, without the
//   watcher's posted event.
// What it uses (m_mutex, continuationMutex, continuation, outputConnections,
// hasException, data) has the same names and meaning from Qt 6.4 to 6.10;
// src/CMakeLists.txt requires the header, so a Qt that changes them fails to
// build here instead of misbehaving.

#include <QtCore/QFutureInterface>
#include <QtCore/QPromise>
#include <QtCore/private/qfutureinterface_p.h>

namespace QtOffload::detail {
struct FutureInternalsTag;
} // namespace QtOffload::detail

QT_BEGIN_NAMESPACE
/*
  QFutureInterfaceBase::d is private, and every specialisation of QPromise
  is a friend of QFutureInterfaceBase ("template<class T> friend class
  QPromise;" in qfutureinterface.h). An explicit specialisation for a type
  of our own is ordinary, legal C++: it is a distinct class that inherits
  nothing from the primary template, and this header is the only place that
  names it.
*/
template<> class QPromise<QtOffload::detail::FutureInternalsTag>
{
public:
    static QFutureInterfaceBasePrivate *privateOf(const QFutureInterfaceBase &future) noexcept { return future.d; }
};
QT_END_NAMESPACE

namespace QtOffload::detail {

//! The private part of \a future.
inline QFutureInterfaceBasePrivate *futurePrivate(const QFutureInterfaceBase &future) noexcept
{
    return QPromise<FutureInternalsTag>::privateOf(future);
}

} // namespace QtOffload::detail
