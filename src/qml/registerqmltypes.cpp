// SPDX-License-Identifier: MIT
#include <QtOffload/generator.h>
#include <QtOffload/qmlregistration.h>

#include <QtQml/qqml.h>

void QtOffload::registerQmlTypes(const char *uri)
{
    qmlRegisterUncreatableType<QtGenerator>(uri, 1, 0, "QtGenerator",
                                            QStringLiteral("QtGenerator is created in C++ (threadedIterable, IteratorWrapper)"));
}
