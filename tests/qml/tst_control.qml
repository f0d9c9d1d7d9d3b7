// SPDX-License-Identifier: MIT
// `import QtOffload` without any registration call: the module's plugin.
import QtQuick
import QtTest
import QtOffload

TestCase {
    name: "QtOffloadControlFromQml"

    SignalSpy { id: finishedSpy; signalName: "finished" }

    function test_generatorProgressPauseAndEndReason() {
        const gen = generators.progressing(50)
        compare(gen.endReason, QtGenerator.NotEnded)
        const chunks = []
        let deliveredWhilePaused = 0
        gen.chunkReady.connect(chunk => {
            if (gen.paused)
                ++deliveredWhilePaused
            chunks.push(chunk)
            if (chunk === 10)
                gen.paused = true
        })
        tryCompare(gen, "paused", true, 10000)
        compare(chunks.length, 11)
        gen.resume()
        tryCompare(gen, "done", true, 10000)
        compare(chunks.length, 50)
        compare(gen.progressValue, 50)
        compare(gen.progressMaximum, 50)
        compare(gen.progress, 1)
        compare(gen.endReason, QtGenerator.Completed)
        compare(deliveredWhilePaused, 0)
    }

    function test_closedAndFailedEndReasons() {
        const closed = generators.counter()
        closed.chunkReady.connect(chunk => { if (chunk === 5) closed.close() })
        tryCompare(closed, "done", true, 10000)
        compare(closed.endReason, QtGenerator.Closed)

        const failed = generators.failing()
        failed.chunkReady.connect(() => {})
        tryCompare(failed, "done", true, 10000)
        compare(failed.endReason, QtGenerator.Failed)
    }

    Component {
        id: listComponent
        ListView {
            width: 100; height: 100
            property alias rows: chunkModel
            model: ChunkListModel { id: chunkModel; maximumRows: 7 }
            delegate: Text { text: chunk }
        }
    }

    function test_listModelKeepsTheLastRows() {
        const view = createTemporaryObject(listComponent, this)
        const gen = generators.words("a b c d e f g h i j")
        view.rows.generator = gen
        tryCompare(gen, "done", true, 10000)
        compare(view.rows.count, 7)
        compare(view.count, 7)
        compare(view.rows.data(view.rows.index(0, 0), ChunkListModel.ChunkRole), "d")
    }

    function test_jobProgressAndResult() {
        const job = generators.sum(1000, 640)
        compare(job.status, QtJob.Running)
        finishedSpy.clear()
        finishedSpy.target = job
        finishedSpy.wait(10000)
        compare(job.status, QtJob.Succeeded)
        compare(job.result, 500500)
        compare(job.progressValue, 640) // the last value, below the maximum
        compare(job.progressMaximum, 1000)
        compare(job.progressText, "adding 640")
        compare(job.running, false)
    }

    function test_jobCancelAndFailure() {
        const waiting = generators.waitForCancel()
        verify(waiting.running)
        waiting.cancel()
        tryCompare(waiting, "status", QtJob.Cancelled, 10000)

        const failing = generators.failingJob()
        tryCompare(failing, "status", QtJob.Failed, 10000)
        verify(failing.errorString.indexOf("the job failed") >= 0, failing.errorString)
    }

    function test_jobPause() {
        const job = generators.waitForCancel()
        job.paused = true
        compare(job.paused, true)
        job.paused = false
        compare(job.paused, false)
        job.cancel()
        tryCompare(job, "status", QtJob.Cancelled, 10000)
    }
}
