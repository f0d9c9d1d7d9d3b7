// SPDX-License-Identifier: MIT
#include "linesource.h"

#include <QtOffload/typedgenerator.h>

#include <QtCore/QThread>
#include <QtQml/QQmlEngine>

namespace {

//! How long the producer blocks for each line, in microseconds.
constexpr unsigned long lineDelayUs = 2000;

//! At most this many lines are produced ahead of the view (backpressure).
constexpr qsizetype readAhead = 16;

const auto produceLines = QtOffload::threadedIterable(
    [](QtOffload::Sink<QString> &out, int count) {
        out.setProgressRange(0, count);
        for (int i = 0; i < count; ++i) {
            QThread::usleep(lineDelayUs); // the blocking work the GUI thread must not do
            if (!out.yield(QStringLiteral("line %1").arg(i + 1)))
                return; // closed: stop producing
            out.setProgressValue(i + 1);
        }
    },
    readAhead);

} // namespace

QtOffload::QtGenerator *LineSource::lines(int count)
{
    if (count < 0) {
        qWarning("LineSource::lines: count must not be negative (got %d); making an empty stream", count);
        count = 0;
    }
    auto generator = produceLines(count);
    generator->setParent(this);
    QQmlEngine::setObjectOwnership(generator.get(), QQmlEngine::CppOwnership);
    return generator.release();
}
