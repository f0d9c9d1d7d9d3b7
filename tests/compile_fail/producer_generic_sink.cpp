// SPDX-License-Identifier: MIT
// Must not build: a generic sink cannot tell the chunk type.
#include <QtOffload/generator.h>

int main()
{
    auto generator = QtOffload::threadedIterable([](auto &out) { out.yield(1); })();
    return generator ? 0 : 1;
}
