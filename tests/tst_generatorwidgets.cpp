// SPDX-License-Identifier: MIT
// A widgets GUI fed by chunkReady: the progress bar and label end where the
// producer did, and every update happened in the GUI thread.
#include <QtOffload/threadpool.h>
#include <QtOffload/typedgenerator.h>

#include <QtCore/QThread>
#include <QtTest/QtTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWidget>

using namespace QtOffload;

class tst_GeneratorWidgets : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testProgressBarAndLabelFollowChunks()
    {
        constexpr int steps = 200;
        QWidget window;
        auto *layout = new QVBoxLayout(&window);
        auto *bar = new QProgressBar(&window);
        auto *label = new QLabel(&window);
        layout->addWidget(bar);
        layout->addWidget(label);
        bar->setRange(0, steps);
        window.show();

        auto generator = threadedIterable(
            [](Sink<int> &out) {
                for (int step = 1; step <= steps; ++step) {
                    if (!out.yield(step))
                        return;
                }
            },
            4)();
        int updates = 0;
        bool offGuiThread = false;
        connect(generator.get(), &QtGenerator::chunkReady, bar, [&](const QVariant &chunk) {
            offGuiThread = offGuiThread || QThread::currentThread() != qApp->thread();
            bar->setValue(chunk.toInt());
            label->setText(QStringLiteral("step %1 of %2").arg(chunk.toInt()).arg(steps));
            ++updates;
        });
        QSignalSpy barValues(bar, &QProgressBar::valueChanged);
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(20000));
        QCOMPARE(updates, steps);
        QCOMPARE(barValues.size(), steps); // every step shown, in order
        for (int step = 1; step <= steps; ++step)
            QCOMPARE(barValues.at(step - 1).first().toInt(), step);
        QVERIFY(!offGuiThread);
        QCOMPARE(bar->value(), steps);
        QCOMPARE(label->text(), QStringLiteral("step 200 of 200"));
    }

    void testClosingFromAButtonStopsTheStream()
    {
        QLabel label;
        auto generator = threadedIterable(
            [](Sink<int> &out) {
                for (int i = 0; out.yield(i); ++i) { }
            },
            2)();
        connect(generator.get(), &QtGenerator::chunkReady, &label, [&](const QVariant &chunk) {
            label.setNum(chunk.toInt());
            if (chunk.toInt() == 50)
                generator->close(); // what a Cancel button's slot does
        });
        QSignalSpy finished(generator.get(), &QtGenerator::finished);
        QVERIFY(finished.wait(20000));
        QCOMPARE(label.text(), QStringLiteral("50")); // nothing delivered after close()
        QVERIFY(generator->close().isFinished());
    }
};

QTEST_MAIN(tst_GeneratorWidgets)
#include "tst_generatorwidgets.moc"
