// SPDX-License-Identifier: MIT
// The Qt Quick example: a ListView fed, chunk by chunk, by a blocking C++
// producer through QtOffload::ChunkListModel, with Pause/Resume and Close.
// Runs offscreen too (QT_QPA_PLATFORM=offscreen); --quit and --screenshot
// make it a test.
#include "autoquit.h"
#include "linesource.h"

#include <QtOffload/chunklistmodel.h>
#include <QtOffload/entrypoint.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQuick/QQuickWindow>

#include <chrono>
#include <cstdio>

namespace {

//! How long --quit may take before the program gives up with exit code 3.
constexpr std::chrono::seconds watchdogTimeout(60);

int positiveValue(const QCommandLineParser &parser, const QString &option)
{
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    return ok && value > 0 ? value : -1;
}

} // namespace

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    QtOffload::Entrypoint entrypoint(argc, argv); // uses this application; owns the default pool and the shutdown

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Streams lines from a blocking producer into a ListView."));
    parser.addHelpOption();
    parser.addOption({ QStringLiteral("lines"), QStringLiteral("How many lines the producer makes."),
                       QStringLiteral("count"), QStringLiteral("5000") });
    parser.addOption({ QStringLiteral("quit"),
                       QStringLiteral("Quit once --quit-rows rows arrived (or the stream ended) and a frame showed "
                                      "them; exit code 0 only if rows arrived.") });
    parser.addOption({ QStringLiteral("quit-rows"),
                       QStringLiteral("Rows --quit waits for (the list keeps at most 200)."), QStringLiteral("rows"),
                       QStringLiteral("50") });
    parser.addOption({ QStringLiteral("screenshot"), QStringLiteral("Save the window as a PNG before quitting."),
                       QStringLiteral("path") });
    parser.process(app);

    const int lineCount = positiveValue(parser, QStringLiteral("lines"));
    const int quitRows = positiveValue(parser, QStringLiteral("quit-rows"));
    if (lineCount < 0 || quitRows < 0) {
        std::fprintf(stderr, "quickstream: error: --lines and --quit-rows want a positive number\n");
        return 2;
    }
    const bool quitAfter = parser.isSet(QStringLiteral("quit"));
    const QString screenshot = parser.value(QStringLiteral("screenshot"));
    if (!screenshot.isEmpty() && !quitAfter) {
        std::fprintf(stderr, "quickstream: error: --screenshot needs --quit\n");
        return 2;
    }

    LineSource lineSource; // outlives the engine: its generators are bound in QML
    QQmlApplicationEngine engine;
#ifdef QTOFFLOAD_QML_BUILD_DIR
    // Only for running from the build tree: `import QtOffload` is found where
    // the build puts the module, without QML_IMPORT_PATH. An installed module
    // is found on the usual import path, with no help from here.
    if (QDir(QStringLiteral(QTOFFLOAD_QML_BUILD_DIR "/QtOffload")).exists())
        engine.addImportPath(QStringLiteral(QTOFFLOAD_QML_BUILD_DIR));
#endif
    engine.setInitialProperties({ { QStringLiteral("lineSource"), QVariant::fromValue<QObject *>(&lineSource) },
                                  { QStringLiteral("lineCount"), lineCount } });
    engine.load(QStringLiteral("qrc:/quickstream/Main.qml"));
    auto *window
        = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    if (!window) {
        std::fprintf(stderr, "quickstream: error: Main.qml did not load as a window\n");
        return 1;
    }
    auto *model = window->findChild<QtOffload::ChunkListModel *>(QStringLiteral("chunks"));
    if (!model) {
        std::fprintf(stderr, "quickstream: error: Main.qml has no ChunkListModel named \"chunks\"\n");
        return 1;
    }

    if (quitAfter) {
        new AutoQuit(window, model, quitRows, screenshot, &app);
        QTimer::singleShot(watchdogTimeout, &app, [] {
            std::fprintf(stderr, "quickstream: error: no result within %lld s, giving up\n",
                         static_cast<long long>(watchdogTimeout.count()));
            QCoreApplication::exit(3);
        });
    }
    return app.exec(); // the Entrypoint shuts the pool down when it goes out of scope
}
