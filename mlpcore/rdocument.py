"""The document's R code, as text for rscript.py: train.dnn() and predict.dnn() as the document
prints them (Korean tutorial, 2017; code by Peng Zhao, ParallelR), with the few lines it does
not print marked ``# LAB:``. Only constants here; nothing is executed.
"""

__all__ = ["ATTRIBUTION", "TRAIN_DNN", "PREDICT_DNN"]

ATTRIBUTION = """\
# ---------------------------------------------------------------------------------------------
# train.dnn() and predict.dnn(), as printed in the document ("R deep learning: building an
# artificial neural network from scratch, part 2", 2017), which walks through this code:
#   Copyright 2016: www.ParallelR.com
#   Parallel Blog : R For Deep Learning (I): Build Fully Connected Neural Network From Scratch
#   Author: Peng Zhao, patric.zhao@gmail.com
# Lines marked "# LAB:" are not in the document: the display block (the document prints its
# output but not these lines) and the guard around the Plotly plot (optional here).
# ---------------------------------------------------------------------------------------------
"""

PREDICT_DNN = """\
# Prediction
predict.dnn <- function(model, data = X.test) {
  # new data, transfer to matrix
  new.data <- base::data.matrix(data)

  # Feed Forwad
  hidden.layer <- base::sweep(new.data %*% model$W1, 2, model$b1, '+')
  # neurons : Rectified Linear
  hidden.layer <- base::pmax(hidden.layer, 0)
  score <- base::sweep(hidden.layer %*% model$W2, 2, model$b2, '+')

  # Loss Function: softmax
  score.exp <- base::exp(score)
  probs <- base::sweep(score.exp, 1, base::rowSums(score.exp), '/')

  # select max possiblity
  labels.predicted <- base::max.col(probs)
  return(labels.predicted)
}
"""

TRAIN_DNN = """\
train.dnn <- function(x, y, traindata = data, testdata = NULL,
                      model = NULL,
                      # set hidden layers and neurons
                      # currently, only support 1 hidden layer
                      hidden = base::c(6),
                      # max iteration steps
                      maxit = 2000,
                      # delta loss
                      abstol = 1e-2,
                      # learning rate
                      lr = 1e-2,
                      # regularization rate
                      reg = 1e-3,
                      # show results every 'display' step
                      display = 100,
                      random.seed = 1)
{
  # to make the case reproducible.
  base::set.seed(random.seed)

  # total number of training set
  N <- base::nrow(traindata)

  # extract the data and label
  # don't need atribute
  X <- base::unname(base::data.matrix(traindata[,x]))

  # correct categories represented by integer
  Y <- traindata[,y]
  if(base::is.factor(Y)) { Y <- base::as.integer(Y) }
  # create index for both row and col
  Y.len <- base::length(base::unique(Y))
  Y.set <- base::sort(base::unique(Y))
  Y.index <- base::cbind(1:N, base::match(Y, Y.set))

  # number of input features
  D <- base::ncol(X)
  # number of categories for classification
  K <- base::length(base::unique(Y))
  H <- hidden

  # create and initialize weights and bias
  W1 <- 0.01 * base::matrix(stats::rnorm(D*H), nrow = D, ncol = H)
  b1 <- base::matrix(0, nrow=1, ncol=H)

  W2 <- 0.01 * base::matrix(stats::rnorm(H*K), nrow = H, ncol = K)
  b2 <- base::matrix(0, nrow = 1, ncol = K)

  # use all train data to update weights since it's a small dataset
  batchsize <- N
  # initialize loss to a very big value
  loss <- 100000
  learning_val <- base::data.frame(Epoch = 0, Loss = 0, Accuracy = 0)  # LAB: the plot's rows

  # Training the network
  i <- 0
  while(i < maxit && loss > abstol) {
    # iteration index
    i <- i +1
    # forward ....
    # 1 indicate row, 2 indicate col
    hidden.layer <- base::sweep(X %*% W1, 2, b1, '+')
    # neurons : ReLU
    hidden.layer <- base::pmax(hidden.layer, 0)
    score <- base::sweep(hidden.layer %*% W2, 2, b2, '+')
    # softmax
    score.exp <- base::exp(score)
    # debug
    probs <- score.exp / base::rowSums(score.exp)
    # compute the loss
    correct.logprobs <- -log(probs[Y.index])
    data.loss <- base::sum(correct.logprobs) / batchsize
    reg.loss <- 0.5 * reg * (base::sum(W1 * W1) + base::sum(W2 * W2))
    loss <- data.loss + reg.loss

    # display results and update model                                    # LAB: this block
    if( i %% display == 0) {                                               # LAB
      if(!base::is.null(testdata)) {                                       # LAB
        model <- base::list( D = D, H = H, K = K,                          # LAB
                             W1 = W1, b1 = b1, W2 = W2, b2 = b2)           # LAB
        labs <- predict.dnn(model, testdata[,-y])                          # LAB
        accuracy <- base::mean(base::as.integer(testdata[,y]) == Y.set[labs])  # LAB
        base::cat(i, loss, accuracy, "\\n")                                # LAB
        learning_val <- base::rbind(learning_val, base::c(i, loss, accuracy))  # LAB
      } else {                                                             # LAB
        base::cat(i, loss, "\\n")                                          # LAB
      }                                                                    # LAB
    }                                                                      # LAB

    # backward ....
    dscores <- probs
    dscores[Y.index] <- dscores[Y.index] - 1
    dscores <- dscores / batchsize

    dW2 <- base::t(hidden.layer) %*% dscores
    db2 <- base::colSums(dscores)

    dhidden <- dscores %*% base::t(W2)
    dhidden[hidden.layer <= 0] <- 0

    dW1 <- base::t(X) %*% dhidden
    db1 <- base::colSums(dhidden)

    # update ....
    dW2 <- dW2 + reg * W2
    dW1 <- dW1 + reg * W1

    W1 <- W1 - lr * dW1
    b1 <- b1 - lr * db1

    W2 <- W2 - lr * dW2
    b2 <- b2 - lr * db2
  }

  # final results
  # creat list to store learned parameters
  # you can add more parameters for debug and visualization
  # such as residuals, fitted.values ...
  model <- list( D = D,
                 H = H,
                 K = K,
                 # weights and bias
                 W1 = W1,
                 b1 = b1,
                 W2 = W2,
                 b2 = b2)

  # plotting with Plotly
  if (base::interactive() && base::requireNamespace("plotly", quietly = TRUE)) {  # LAB: optional
    `%>%` <- plotly::`%>%`; add_trace <- plotly::add_trace; layout <- plotly::layout  # LAB
  learning_val <- learning_val[-1,]
  p <- plotly::plot_ly(data = learning_val, x = ~Epoch, y = ~Loss, name = "Loss",
                       type = 'scatter', mode = 'lines+markers',
                       line = list(color = 'rgb(205, 12, 24)', width = 3)) %>%
    add_trace(y = ~Accuracy, name = "Accuracy",
              line = list(color = 'rgb(22, 96, 167)', width = 4)) %>%
    layout(title = "Loss & Accuracy as Steps Proceed",
           xaxis = list(title = "steps"),
           yaxis = list (title = "Loss & Acc."))
  print(p)
  }                                                                               # LAB

  return(model)
}
"""
