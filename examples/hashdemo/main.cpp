// SPDX-License-Identifier: MIT
// The GUI demo: hashes a big file through a QtOffload generator, on the GUI
// thread, with QtConcurrent + QPromise and in a QtOffload threaded job that
// reports progress and can be paused, and shows how long the event loop
// froze for each. Runs offscreen too (QT_QPA_PLATFORM=offscreen).
#include "mainwindow.h"

#include <QtOffload/QtOffload>

#include <QtCore/QCommandLineParser>
#include <QtCore/QEvent>
#include <QtCore/QFileInfo>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryFile>
#include <QtWidgets/QApplication>

#include <cstdio>
#include <functional>
#include <memory>

namespace {

//! A file of \a megabytes of reproducible noise, removed at exit.
std::unique_ptr<QTemporaryFile> makeSampleFile(int megabytes)
{
    auto file = std::make_unique<QTemporaryFile>();
    if (!file->open())
        return nullptr;
    QRandomGenerator noise(2233);
    QByteArray block(1024 * 1024, Qt::Uninitialized);
    for (int i = 0; i < megabytes; ++i) {
        noise.fillRange(reinterpret_cast<quint32 *>(block.data()), block.size() / int(sizeof(quint32)));
        if (file->write(block) != block.size())
            return nullptr;
    }
    file->flush();
    return file;
}

//! Calls a function once, after the widget's first paint event.
class AfterFirstPaint : public QObject
{
public:
    AfterFirstPaint(QWidget *widget, std::function<void()> call)
        : QObject(widget)
        , m_call(std::move(call))
    {
        widget->installEventFilter(this);
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Paint) {
            watched->removeEventFilter(this);
            // Queued: the paint completes first, and it is not billed to the call.
            QMetaObject::invokeMethod(
                this,
                [this] {
                    m_call();
                    deleteLater();
                },
                Qt::QueuedConnection);
        }
        return false;
    }

private:
    std::function<void()> m_call;
};

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QtOffload::Entrypoint entrypoint(argc, argv); // uses this QApplication; owns the default pool and the shutdown
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Hashes a file four ways and measures how long the GUI froze."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("File to hash (default: a generated one)."));
    parser.addOption({ QStringLiteral("size"), QStringLiteral("Size of the generated file in MiB."),
                       QStringLiteral("MiB"), QStringLiteral("256") });
    parser.addOption(
        { QStringLiteral("quit"),
          QStringLiteral("Run the four methods at once, pausing and resuming the threaded job once, then quit.") });
    parser.addOption({ QStringLiteral("screenshot"), QStringLiteral("Save the window as a PNG after the runs."),
                       QStringLiteral("path") });
    parser.process(app);

    bool sizeOk = false;
    const int sizeMiB = parser.value(QStringLiteral("size")).toInt(&sizeOk);
    if (!sizeOk || sizeMiB < 1) {
        std::fprintf(stderr, "--size wants a positive number of MiB\n");
        return 2;
    }
    std::unique_ptr<QTemporaryFile> sample;
    QString path = parser.positionalArguments().value(0);
    if (!path.isEmpty() && !QFileInfo(path).isFile()) {
        std::fprintf(stderr, "%s is not a file\n", qPrintable(path));
        return 2;
    }
    if (path.isEmpty()) {
        sample = makeSampleFile(sizeMiB);
        if (!sample) {
            std::fprintf(stderr, "cannot write a sample file\n");
            return 2;
        }
        path = sample->fileName();
    }

    MainWindow window(path);
    window.show();
    const QString screenshot = parser.value(QStringLiteral("screenshot"));
    const bool quitAfter = parser.isSet(QStringLiteral("quit"));
    int exitCode = 0;
    QObject::connect(&window, &MainWindow::allFinished, &app, [&](bool match) {
        std::printf("%s\n", match ? "digests match" : "DIGESTS DIFFER");
        exitCode = match ? 0 : 1;
        if (!screenshot.isEmpty() && !window.grab().save(screenshot)) {
            std::fprintf(stderr, "cannot save %s\n", qPrintable(screenshot));
            exitCode = 1;
        }
        if (quitAfter)
            app.exit(exitCode);
    });
    // The first paint loads fonts and fills the backing store: tens of
    // milliseconds that would otherwise count as the first method's stall.
    if (quitAfter) {
        window.pauseOnceInNextRun();
        new AfterFirstPaint(&window, [&window] { window.runAll(); });
    }
    return app.exec(); // the Entrypoint shuts the pool down when it goes out of scope
}
