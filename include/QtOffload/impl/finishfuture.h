// SPDX-License-Identifier: MIT
#pragma once

// Implementation detail of QtOffload: do not include directly.

#include <QtOffload/qtoffloadglobal.h>

class QFutureInterfaceBase;

namespace QtOffload::detail {

/*!
  Reports \a future finished and runs its continuation exactly once, even
  while another thread attaches one with QFuture::then(). A cancelled
  future with no result gets a CancelledError first, so that result(),
  waitForFinished() and co_await throw it instead of reading a result that
  does not exist (see src/finishfuture.cpp). Every future
  QtOffload hands out is finished through it: Qt's own reportFinished() before 6.10 (6.4.2, 6.8.2)
  can run a continuation twice (QTBUG-118032, see src/finishfuture.cpp).
  A second call does nothing.
*/
QTOFFLOAD_EXPORT void finishFuture(QFutureInterfaceBase &future) noexcept;

/*!
  Called by each holder of \a future just before it drops its reference:
  whichever thread drops the last one, and so frees the results, comes after
  every other holder's reads. The reference count that orders them lives in
  uninstrumented Qt, so ThreadSanitizer is told (nothing in other builds).
*/
QTOFFLOAD_EXPORT void releasingFuture(const QFutureInterfaceBase &future) noexcept;

} // namespace QtOffload::detail
