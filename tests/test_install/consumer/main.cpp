// SPDX-License-Identifier: MIT
// Built against the installed package only: the umbrella header, the
// threaded wrappers, QCoro awaiting (co_await on a future, QCORO_FOREACH over
// a generator) and the Entrypoint must all work from there, with no QCoro
// header of its own. Built with Qt's default settings (keywords on, no
// QStringBuilder), unlike the module's own targets.

#include <QtOffload/QtOffload>

#include <QtCore/QThread>

#include <cstdio>

namespace {

QCoro::Task<QString> work()
{
    const int doubled = co_await QtOffload::threaded([](int x) { return x * 2; })(21);
    const QString where = co_await QtOffload::threadedSeparate([] { return QThread::currentThread()->objectName(); })();
    auto numbers = QtOffload::threadedIterable(
        [](QtOffload::Sink<int> &out) {
            for (int i = 0; i < 3 && out.yield(i); ++i) { }
        },
        2)();
    int sum = 0;
    QCORO_FOREACH(int n, *numbers) { sum += n; }
    if (sum != 0 + 1 + 2)
        co_return QStringLiteral("QCORO_FOREACH summed %1, not 3").arg(sum);
    co_return QStringLiteral("threaded=%1 separate=%2").arg(doubled).arg(where);
}

} // namespace

int main(int argc, char *argv[])
{
    QtOffload::Entrypoint entrypoint(argc, argv, { .poolSize = 2 });
    const QString report = entrypoint.run(work());
    // The package CMake found, the headers compiled here and the library loaded must be one version.
    if (qstrcmp(QtOffload::version(), QTOFFLOAD_FOUND_VERSION) != 0
        || qstrcmp(QTOFFLOAD_VERSION_STR, QTOFFLOAD_FOUND_VERSION) != 0) {
        std::fprintf(stderr, "version mismatch: package %s, headers %s, library %s\n", QTOFFLOAD_FOUND_VERSION,
                     QTOFFLOAD_VERSION_STR, QtOffload::version());
        return 1;
    }
    std::printf("QtOffload %s consumer: %s\n", QtOffload::version(), qPrintable(report));
    return 0;
}
