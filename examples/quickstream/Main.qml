// SPDX-License-Identifier: MIT
// A ListView bound to a generator through ChunkListModel, with its progress,
// Pause/Resume and Close. The generator is made by the C++ LineSource.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtOffload

ApplicationWindow {
    id: window

    //! The C++ LineSource (main.cpp): lines(count) returns a QtGenerator.
    //! A var: the type is not registered with QML, only handed in.
    required property var lineSource
    required property int lineCount
    //! The stream shown; C++ owns it.
    property QtGenerator generator: null

    width: 480
    height: 400
    visible: true
    title: qsTr("QtOffload: streaming into a ListView")

    Component.onCompleted: generator = lineSource.lines(lineCount)

    function endText(reason) {
        switch (reason) {
        case QtGenerator.Completed:
            return qsTr("completed")
        case QtGenerator.Closed:
            return qsTr("closed")
        case QtGenerator.Failed:
            return qsTr("failed")
        }
        return ""
    }

    ChunkListModel {
        id: chunks
        objectName: "chunks" // main.cpp finds it by this name for --quit
        generator: window.generator
        maximumRows: 200 // the oldest rows go, so an endless stream stays cheap
    }

    // Keeps the newest line in sight; pause the stream to scroll back.
    Connections {
        target: chunks
        function onCountChanged() { list.positionViewAtEnd() }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 8

        Frame {
            Layout.fillWidth: true
            Layout.fillHeight: true
            padding: 2

            ListView {
                id: list
                anchors.fill: parent
                clip: true
                model: chunks
                delegate: Label {
                    id: row
                    required property int index
                    required property string chunk
                    width: ListView.view.width
                    leftPadding: 6
                    text: chunk
                    background: Rectangle { color: row.index % 2 ? row.palette.alternateBase : row.palette.base }
                }
                ScrollBar.vertical: ScrollBar {}
            }
        }

        ProgressBar {
            Layout.fillWidth: true
            value: window.generator ? window.generator.progress : 0
        }

        RowLayout {
            Layout.fillWidth: true

            Button {
                text: window.generator && window.generator.paused ? qsTr("Resume") : qsTr("Pause")
                enabled: window.generator !== null && !window.generator.done
                onClicked: window.generator.paused = !window.generator.paused
            }
            Button {
                text: qsTr("Close")
                enabled: window.generator !== null && !window.generator.done
                onClicked: window.generator.close()
            }
            Label {
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignRight
                elide: Text.ElideLeft
                text: {
                    const gen = window.generator
                    if (!gen)
                        return ""
                    if (gen.done)
                        return qsTr("finished: %1").arg(window.endText(gen.endReason))
                    const position = qsTr("%1 of %2 lines, %3 shown").arg(gen.progressValue)
                                         .arg(gen.progressMaximum).arg(chunks.count)
                    return gen.paused ? qsTr("paused at %1").arg(position) : position
                }
            }
        }
    }
}
