// SPDX-License-Identifier: MIT
#include <QtOffload/whenfinished.h>

#include <QtCore/QDebug>

namespace QtOffload::detail {

void warnNotDelivered(const QFutureInterfaceBase &future) noexcept
{
    QFutureInterfaceBase finished(future);
    if (!finished.hasException()) {
        qWarning("QtOffload::whenFinished: the job was cancelled; its callback is not called");
        return;
    }
    try {
        finished.waitForFinished(); // rethrows the job's exception
    } catch (const std::exception &e) {
        qWarning("QtOffload::whenFinished: the job threw, so its callback is not called: %s "
                 "(take the QFuture in the callback to handle failures)", e.what());
    } catch (...) {
        qWarning("QtOffload::whenFinished: the job threw a non-std::exception, so its callback is not called "
                 "(take the QFuture in the callback to handle failures)");
    }
}

} // namespace QtOffload::detail
