// SPDX-License-Identifier: MIT
// A job's parameter taking a non-const reference cannot bind to the copy the job holds.
#include <QtOffload/threaded.h>

#include <QtCore/QString>

int main()
{
    QString text;
    auto append = QtOffload::threaded([](QString &s) { s += QLatin1Char('!'); });
    (void)append(text);
}
