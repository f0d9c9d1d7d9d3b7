// SPDX-License-Identifier: MIT
// Must not compile: chunkReady carries a QVariant, which cannot hold a
// move-only chunk. compile_fail_chunkready checks that the build stops with
// QtOffload's message, not somewhere inside Qt.

#include <QtOffload/QtOffload>

#include <memory>

int main()
{
    using namespace QtOffload;
    auto generator = threadedIterable([](Sink<std::unique_ptr<int>> &) {})();
    QObject receiver;
    QObject::connect(generator.get(), &TypedGenerator<std::unique_ptr<int>>::chunkReady, &receiver,
                     [](const QVariant &) {});
    return 0;
}
