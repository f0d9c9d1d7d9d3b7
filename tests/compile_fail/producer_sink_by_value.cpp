// SPDX-License-Identifier: MIT
// Must not build: a sink is the generator's end of the buffer, taken by reference.
#include <QtOffload/typedgenerator.h>

int main()
{
    auto generator = QtOffload::threadedIterable([](QtOffload::Sink<int> out) { out.yield(1); })();
    return generator ? 0 : 1;
}
