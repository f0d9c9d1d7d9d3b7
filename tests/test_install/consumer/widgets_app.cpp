// SPDX-License-Identifier: MIT
// A widgets window as a user writes it: a progress bar driven by a job's
// progress, and a Cancel button. Offscreen, it runs one job to the end.
#include <QtOffload/QtOffload>

#include <QtCore/QFutureWatcher>
#include <QtWidgets/QApplication>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWidget>

#include <cstdio>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QtOffload::Entrypoint entrypoint(argc, argv, { .poolSize = 2 });
    QWidget window;
    auto *bar = new QProgressBar(&window);
    auto *cancel = new QPushButton(QStringLiteral("Cancel"), &window);
    auto *layout = new QVBoxLayout(&window);
    layout->addWidget(bar);
    layout->addWidget(cancel);

    QFutureWatcher<int> watcher;
    QObject::connect(&watcher, &QFutureWatcherBase::progressRangeChanged, bar, &QProgressBar::setRange);
    QObject::connect(&watcher, &QFutureWatcherBase::progressValueChanged, bar, &QProgressBar::setValue);
    QObject::connect(cancel, &QPushButton::clicked, &watcher, &QFutureWatcherBase::cancel);
    QObject::connect(&watcher, &QFutureWatcherBase::finished, &app, [&] {
        std::printf("widgets consumer: result=%d progress=%d of %d\n", watcher.result(), bar->value(), bar->maximum());
        app.quit();
    });
    watcher.setFuture(QtOffload::threaded([](QtOffload::JobControl &control) {
        control.setProgressRange(0, 100);
        int sum = 0;
        for (int i = 1; i <= 100 && !control.isStopRequested(); ++i) {
            control.suspendIfRequested();
            sum += i;
            control.setProgressValue(i);
        }
        return sum;
    })());
    window.show();
    return app.exec();
}
