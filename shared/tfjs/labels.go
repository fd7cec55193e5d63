package tfjs

// FaceAPIExpressionOrder names the classes of BuildFaceExpressionNet's output
// in order (face-api's FACE_EXPRESSION_LABELS).
var FaceAPIExpressionOrder = [7]string{"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"}

// HumanEmotionOrder names the classes of @vladmandic/human's emotion model
// (models/emotion.json, converted with ConvertGraphModel) in output order.
// The model's own labels are angry, disgust, fear, happy, sad, surprise,
// neutral; they are spelled here as moji.Expression spells them.
var HumanEmotionOrder = [7]string{"angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral"}
