// SPDX-License-Identifier: MIT
// Must not build: a generic sink cannot tell the chunk type.
#include <QtOffload/typedgenerator.h>

int main()
{
    auto generator = QtOffload::threadedIterable([](auto &out) { out.yield(1); })();
    return generator ? 0 : 1;
}
