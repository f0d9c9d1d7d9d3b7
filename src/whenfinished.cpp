// SPDX-License-Identifier: MIT
#include <QtOffload/errors.h>
#include <QtOffload/whenfinished.h>

#include "errors_p.h"

#include <QtCore/QDebug>

namespace QtOffload::detail {

void warnNotDelivered(const QFutureInterfaceBase &future) noexcept
{
    QFutureInterfaceBase finished(future);
    if (!finished.hasException()) {
        qWarning("QtOffload::whenFinished: the job was cancelled; its callback is not called");
        return;
    }
    std::exception_ptr error;
    try {
        finished.waitForFinished(); // rethrows the job's exception
    } catch (const CancelledError &) {
        qWarning("QtOffload::whenFinished: the job was cancelled; its callback is not called");
        return;
    } catch (...) {
        error = std::current_exception();
    }
    qWarning("QtOffload::whenFinished: the job threw, so its callback is not called: %s "
             "(take the QFuture in the callback to handle failures)",
             describeException(error).c_str());
}

} // namespace QtOffload::detail
