// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import QtOffload

TestCase {
    name: "QtGeneratorFromQml"

    SignalSpy { id: finishedSpy; signalName: "finished" }

    function test_chunksArriveInOrder() {
        const gen = generators.words("one two three four five")
        const chunks = []
        gen.chunkReady.connect(chunk => chunks.push(chunk))
        finishedSpy.clear()
        finishedSpy.target = gen
        finishedSpy.wait(10000)
        compare(chunks, ["one", "two", "three", "four", "five"])
        compare(gen.running, false)
        compare(gen.maxSize, 2)
    }

    Component {
        id: connectionsComponent
        Item {
            property var generator
            property var received: []
            property bool done: false
            Connections {
                target: generator
                function onChunkReady(chunk) { received.push(chunk) }
                function onFinished() { done = true }
            }
        }
    }

    function test_connectionsElement() {
        const item = createTemporaryObject(connectionsComponent, this, { generator: generators.words("a b c") })
        tryCompare(item, "done", true, 10000)
        compare(item.received, ["a", "b", "c"])
    }

    function test_closeFromQmlStopsAnEndlessProducer() {
        const gen = generators.counter()
        let last = -1
        gen.chunkReady.connect(chunk => {
            last = chunk
            if (chunk === 20)
                gen.close()
        })
        finishedSpy.clear()
        finishedSpy.target = gen
        finishedSpy.wait(10000)
        compare(last, 20)
    }

    function test_propertiesFromQml() {
        const gen = generators.words("x y z")
        compare(gen.maxSize, 2)
        compare(gen.done, false)
        const chunks = []
        gen.chunkReady.connect(chunk => chunks.push(chunk))
        tryCompare(gen, "done", true, 10000)
        compare(chunks, ["x", "y", "z"])
        compare(gen.running, false)
        compare(gen.buffered, 0)
    }

    function test_errorOccurredReachesQml() {
        const gen = generators.failing()
        let message = ""
        let chunks = 0
        gen.chunkReady.connect(() => ++chunks) // a consumer: generators start for one
        gen.errorOccurred.connect(m => message = m)
        finishedSpy.clear()
        finishedSpy.target = gen
        finishedSpy.wait(10000)
        verify(message.indexOf("the producer failed") >= 0, message)
        compare(chunks, 1)
    }

    ChunkListModel { id: collectedModel; maximumRows: 10000 }
    SignalSpy { id: modelGeneratorSpy; target: collectedModel; signalName: "generatorChanged" }

    function test_garbageCollectionKeepsTheModelsGenerator() {
        // A C++ property is no script reference: the model must own what it was handed.
        collectedModel.clear()
        collectedModel.generator = generators.unowned(2000)
        modelGeneratorSpy.clear()
        for (let i = 0; i < 50 && collectedModel.count < 2000; ++i) {
            generators.collectGarbage()
            wait(1)
        }
        generators.collectGarbage()
        tryCompare(collectedModel, "count", 2000, 20000)
        verify(collectedModel.generator !== null, "the generator was collected")
        tryCompare(collectedModel.generator, "done", true, 10000)
        compare(collectedModel.generator.endReason, QtGenerator.Completed)
        compare(modelGeneratorSpy.count, 0)
        for (let row = 0; row < 2000; row += 499)
            compare(collectedModel.data(collectedModel.index(row, 0), ChunkListModel.ChunkRole), row)
        collectedModel.generator = null // the model destroys what it owned
    }
}
