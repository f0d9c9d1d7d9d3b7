// SPDX-License-Identifier: MIT
// Must not build: the wrapper is made and dropped, the job never submitted.
#include <QtOffload/threaded.h>

int main()
{
    QtOffload::threaded([] { return 42; }); // meant: threaded(f)()
    return 0;
}
